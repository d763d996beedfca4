namespace Sockeye.Protocol;

/// <summary>Frame opcodes (RFC 6455 §5.2). Values 3–7 and 0xB–0xF are reserved.</summary>
internal enum Opcode : byte
{
    /// <summary>Continuation of a fragmented message.</summary>
    Continuation = 0x0,
    /// <summary>First frame of a text message (UTF-8).</summary>
    Text = 0x1,
    /// <summary>First frame of a binary message.</summary>
    Binary = 0x2,
    /// <summary>Connection close control frame.</summary>
    Close = 0x8,
    /// <summary>Ping control frame.</summary>
    Ping = 0x9,
    /// <summary>Pong control frame.</summary>
    Pong = 0xA,
}

/// <summary>Classification helpers for <see cref="Opcode"/>.</summary>
internal static class OpcodeExtensions
{
    /// <summary>Control frames have the most significant opcode bit set (RFC 6455 §5.5).</summary>
    public static bool IsControl(this Opcode opcode) => ((byte)opcode & 0x8) != 0;

    /// <summary>True for the six opcodes RFC 6455 defines; all others are reserved (§5.2).</summary>
    public static bool IsDefined(this Opcode opcode) =>
        opcode is Opcode.Continuation or Opcode.Text or Opcode.Binary or Opcode.Close or Opcode.Ping or Opcode.Pong;
}
