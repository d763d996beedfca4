namespace Sockeye.Conformance.Wire;

/// <summary>Frame opcodes (RFC 6455 5.2). Plain bytes, because the suite deliberately sends reserved ones.</summary>
internal static class Opcodes
{
    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    /// <summary>RFC 6455 5.5: control frames have the most significant opcode bit set.</summary>
    public static bool IsControl(byte opcode) => (opcode & 0x8) != 0;

    /// <summary>RFC 6455 5.2: %x3-7 and %xB-F are reserved.</summary>
    public static bool IsReserved(byte opcode) => opcode is (>= 0x3 and <= 0x7) or (>= 0xB and <= 0xF);

    public static string Name(byte opcode) => opcode switch
    {
        Continuation => "continuation",
        Text => "text",
        Binary => "binary",
        Close => "close",
        Ping => "ping",
        Pong => "pong",
        _ => $"opcode {opcode}",
    };
}
