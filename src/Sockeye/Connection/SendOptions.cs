namespace Sockeye;

/// <summary>Per-message send options.</summary>
[Flags]
public enum SendOptions
{
    /// <summary>Defaults: compressed when permessage-deflate was agreed and the message reaches the threshold.</summary>
    None = 0,

    /// <summary>Send this message uncompressed even on a permessage-deflate connection (e.g. already-compressed data).</summary>
    NoCompression = 1,
}
