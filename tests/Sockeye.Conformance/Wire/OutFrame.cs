namespace Sockeye.Conformance.Wire;

/// <summary>
/// A frame the suite sends. Any field may be illegal on purpose (RSV bits, reserved opcodes,
/// oversized control frames); <see cref="Masked"/> overrides the role's masking rule when set.
/// </summary>
internal sealed record OutFrame(byte Opcode, ReadOnlyMemory<byte> Payload, bool Fin = true, byte Rsv = 0, bool? Masked = null)
{
    public static OutFrame Text(string text, bool fin = true) => new(Opcodes.Text, Payloads.Utf8(text), fin);

    public static OutFrame Text(ReadOnlyMemory<byte> utf8, bool fin = true) => new(Opcodes.Text, utf8, fin);

    public static OutFrame Binary(ReadOnlyMemory<byte> payload, bool fin = true) => new(Opcodes.Binary, payload, fin);

    public static OutFrame Continuation(string text, bool fin) => new(Opcodes.Continuation, Payloads.Utf8(text), fin);

    public static OutFrame Continuation(ReadOnlyMemory<byte> payload, bool fin) => new(Opcodes.Continuation, payload, fin);

    public static OutFrame Ping(string text = "") => new(Opcodes.Ping, Payloads.Utf8(text));

    public static OutFrame Ping(ReadOnlyMemory<byte> payload) => new(Opcodes.Ping, payload);

    public static OutFrame Pong(string text = "") => new(Opcodes.Pong, Payloads.Utf8(text));

    /// <summary>A close frame with a status code and a raw (possibly invalid or oversized) reason.</summary>
    public static OutFrame Close(ushort code, ReadOnlySpan<byte> reason = default)
    {
        var payload = new byte[2 + reason.Length];
        payload[0] = (byte)(code >> 8);
        payload[1] = (byte)code;
        reason.CopyTo(payload.AsSpan(2));
        return new OutFrame(Opcodes.Close, payload);
    }

    /// <summary>A close frame with an arbitrary raw payload (empty, 1 byte, ...).</summary>
    public static OutFrame CloseRaw(ReadOnlyMemory<byte> payload) => new(Opcodes.Close, payload);

    /// <summary>Splits a message into data frames of at most <paramref name="fragmentSize"/> bytes (RFC 6455 5.4).</summary>
    public static OutFrame[] Fragment(byte opcode, ReadOnlyMemory<byte> payload, int fragmentSize)
    {
        if (payload.Length <= fragmentSize)
        {
            return [new OutFrame(opcode, payload)];
        }

        var count = (payload.Length + fragmentSize - 1) / fragmentSize;
        var frames = new OutFrame[count];
        for (var i = 0; i < count; i++)
        {
            var start = i * fragmentSize;
            var slice = payload.Slice(start, Math.Min(fragmentSize, payload.Length - start));
            frames[i] = new OutFrame(i == 0 ? opcode : Opcodes.Continuation, slice, Fin: i == count - 1);
        }

        return frames;
    }
}
