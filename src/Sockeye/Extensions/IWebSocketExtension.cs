namespace Sockeye.Extensions;

/// <summary>
/// An extension agreed on one connection (RFC 6455 §9). The engine lets a frame carry a reserved bit only when an
/// agreed extension claims it; no two agreed extensions may claim the same bit. permessage-deflate is the one
/// implementation, and the only one that may use RSV1 (RFC 7692 §6).
/// </summary>
internal interface IWebSocketExtension : IDisposable
{
    /// <summary>The registered name, e.g. <c>permessage-deflate</c>.</summary>
    string Name { get; }

    /// <summary>The reserved bits this extension gives meaning to (RSV1 = 0b100, as in <see cref="Protocol.FrameHeader.Rsv"/>).</summary>
    byte RsvBits { get; }

    /// <summary>The agreed <c>Sec-WebSocket-Extensions</c> element.</summary>
    string Header { get; }
}
