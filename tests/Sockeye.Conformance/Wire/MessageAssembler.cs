using System.Buffers;
using System.Text.Unicode;
using Sockeye.Conformance.Deflate;

namespace Sockeye.Conformance.Wire;

/// <summary>
/// Reassembles the peer's data frames into messages, enforcing RFC 6455 5.4 and 8.1; with permessage-deflate, a message
/// whose first frame has RSV1 set is inflated once complete (RFC 7692 6.2) and checked as what it inflates to.
/// </summary>
internal sealed class MessageAssembler(DeflateSession? deflate, int maxMessageBytes)
{
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private byte? _opcode;
    private bool _compressed;
    private int _frames;

    /// <summary>The completed message, a violation, or null while a fragmented message is still open.</summary>
    public WireEvent? Add(byte opcode, bool fin, bool rsv1, byte[] payload)
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
            _compressed = rsv1;
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
        var wireLength = message.Length;
        _opcode = null;
        if (_compressed)
        {
            try
            {
                message = deflate!.Inflate(message, maxMessageBytes);
            }
            catch (InvalidDataException ex)
            {
                return new ViolationEvent($"a compressed {(binary ? "binary" : "text")} message ({wireLength} bytes) that does not inflate: {ex.Message}");
            }
        }

        return !binary && !Utf8.IsValid(message)
            ? new ViolationEvent($"a text message that is not valid UTF-8{(_compressed ? " once inflated" : "")} (RFC 6455 8.1)")
            : new MessageEvent(binary, message, _frames) { Compressed = _compressed, WireLength = wireLength };
    }
}
