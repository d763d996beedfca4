namespace Sockeye;

/// <summary>
/// permessage-deflate (RFC 7692) settings, for a server (what it accepts and asks for) or a client (what it offers).
/// Set <see cref="WebSocketOptions.Deflate"/> to enable the extension. Memory per connection is documented in
/// docs/compression.md: a compressed connection that has gone idle keeps only its windows' history, not zlib's state.
/// </summary>
public sealed class PerMessageDeflateOptions
{
    /// <summary>
    /// The largest LZ77 window (8–15 bits) the server compresses with (<c>server_max_window_bits</c>, §7.1.2.1).
    /// A server below 15 announces it; a client below 15 offers it. Default 15.
    /// </summary>
    public int ServerMaxWindowBits { get; set; } = 15;

    /// <summary>
    /// The largest window (8–15 bits) the client compresses with (<c>client_max_window_bits</c>, §7.1.2.2). A server
    /// can only ask for it when the client offered the parameter. Default 15.
    /// </summary>
    public int ClientMaxWindowBits { get; set; } = 15;

    /// <summary>
    /// Client: whether the offer carries <c>client_max_window_bits</c> (default true), which lets the server choose a
    /// smaller window for what the client sends (§7.1.2.2); with a value when <see cref="ClientMaxWindowBits"/> is below 15.
    /// </summary>
    public bool OfferClientMaxWindowBits { get; set; } = true;

    /// <summary>The server resets its compressor after every message (<c>server_no_context_takeover</c>, §7.1.1.1).</summary>
    public bool ServerNoContextTakeover { get; set; }

    /// <summary>The client resets its compressor after every message (<c>client_no_context_takeover</c>, §7.1.1.2).</summary>
    public bool ClientNoContextTakeover { get; set; }

    /// <summary>
    /// zlib compression level 1 (fastest) – 9 (smallest); default 1, as libwebsockets. With context takeover most of
    /// what small messages gain comes from matching recent messages, which level 1 finds; zlib's default 6 makes a
    /// stream of 64-byte JSON messages ~15 % smaller and costs ~3–5× the CPU once many connections' hash chains no
    /// longer fit the cache (docs/compression.md). Large documents gain more from 6 (~25 %).
    /// </summary>
    public int CompressionLevel { get; set; } = 1;

    /// <summary>zlib memLevel 1–9: memory for the compressor's hash tables (2^(memLevel+9) bytes); default 8.</summary>
    public int MemoryLevel { get; set; } = 8;

    /// <summary>Messages smaller than this many bytes are sent uncompressed (default 32): deflate cannot shrink them.</summary>
    public int Threshold { get; set; } = 32;

    /// <summary>
    /// After this long without a compressed message, a context-takeover connection gives its zlib state back to a
    /// shared pool and keeps only the window's bytes (default 1 s; <see cref="Timeout.InfiniteTimeSpan"/> never).
    /// </summary>
    public TimeSpan IdleRelease { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A copy.</summary>
    public PerMessageDeflateOptions Clone() => (PerMessageDeflateOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        if (ServerMaxWindowBits is < 8 or > 15 || ClientMaxWindowBits is < 8 or > 15)
        {
            throw new ArgumentOutOfRangeException(nameof(ServerMaxWindowBits), "Window bits must be 8 to 15 (RFC 7692 §7.1.2).");
        }

        if (CompressionLevel is < 0 or > 9 || MemoryLevel is < 1 or > 9)
        {
            throw new ArgumentOutOfRangeException(nameof(CompressionLevel), "zlib level must be 0–9 and memLevel 1–9.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(Threshold);
    }
}

/// <summary>The permessage-deflate parameters agreed on one connection (RFC 7692 §7.1).</summary>
/// <param name="ServerNoContextTakeover">The server resets its compressor after each message.</param>
/// <param name="ClientNoContextTakeover">The client resets its compressor after each message.</param>
/// <param name="ServerMaxWindowBits">The largest window the server compresses with.</param>
/// <param name="ClientMaxWindowBits">The largest window the client compresses with.</param>
/// <param name="Header">The agreed <c>Sec-WebSocket-Extensions</c> element, as the server sent it.</param>
public sealed record PerMessageDeflateParameters(bool ServerNoContextTakeover, bool ClientNoContextTakeover,
    int ServerMaxWindowBits, int ClientMaxWindowBits, string Header);
