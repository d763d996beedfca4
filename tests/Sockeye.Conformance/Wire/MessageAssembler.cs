using System.Buffers;
using System.Text.Unicode;

namespace Sockeye.Conformance.Wire;

/// <summary>Reassembles the peer's data frames into messages, enforcing RFC 6455 5.4 and 8.1.</summary>
internal sealed class MessageAssembler
{
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private byte? _opcode;
    private int _frames;

    /// <summary>The completed message, a violation, or null while a fragmented message is still open.</summary>
    public WireEvent? Add(byte opcode, bool fin, byte[] payload)
    {
        if (opcode == Opcodes.Continuation)
        {
            if (_opcode is null)
            {
                return new ViolationEvent("a continuation frame with no message to continue (RFC 6455 5.4)");
            }
        }
        else if (_opcode is not null)
        {
            return new ViolationEvent($"a new {Opcodes.Name(opcode)} frame inside a fragmented message (RFC 6455 5.4)");
        }
        else
        {
            _opcode = opcode;
            _buffer.ResetWrittenCount();
            _frames = 0;
        }

        _buffer.Write(payload);
        _frames++;
        if (!fin)
        {
            return null;
        }

        var binary = _opcode == Opcodes.Binary;
        var message = _buffer.WrittenSpan.ToArray();
        _opcode = null;
        return !binary && !Utf8.IsValid(message)
            ? new ViolationEvent("a text message that is not valid UTF-8 (RFC 6455 8.1)")
            : new MessageEvent(binary, message, _frames);
    }
}
