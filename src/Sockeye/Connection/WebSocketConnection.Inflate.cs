using System.Buffers;
using System.Runtime.CompilerServices;
using Sockeye.Extensions;
using Sockeye.Protocol;

namespace Sockeye;

public sealed partial class WebSocketConnection
{
    // A streamed compressed message is delivered in parts of at most this size, whatever it inflates to.
    private const int InflatePart = 64 * 1024;

    private readonly PerMessageDeflate? _deflate;

    /// <summary>The permessage-deflate state (tests look at its contexts).</summary>
    internal PerMessageDeflate? Deflate => _deflate;

    /// <summary>
    /// Inflates one chunk of a compressed message's payload (RFC 7692 §7.2.2) straight into the message buffer. The
    /// output is counted against the message size limit as it is produced, so a small frame that inflates past the
    /// limit fails with 1009 without the whole output ever being allocated (decompression bombs). Text is validated
    /// after inflation, chunk by chunk. Returns false when the connection failed.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> InflateAsync(ReadOnlySequence<byte> chunk, bool messageEnds, MessageType type, bool isText)
    {
        foreach (ReadOnlyMemory<byte> segment in chunk)
        {
            if (!await InflateInputAsync(segment, type, isText).ConfigureAwait(false))
            {
                return false;
            }
        }

        if (!messageEnds)
        {
            return true;
        }

        // §7.2.2: append 0x00 0x00 0xff 0xff to the payload of the message and decompress it.
        if (!await InflateInputAsync(PerMessageDeflate.TailBytes, type, isText).ConfigureAwait(false))
        {
            return false;
        }

        if (_inflateEnded)
        {
            _deflate!.Inbound.RestartKeepingHistory();
        }

        _deflate!.Inbound.EndMessage();
        if (isText && !_utf8.IsComplete)
        {
            await FailAsync(ProtocolError.InvalidData("text message ends inside a UTF-8 sequence")).ConfigureAwait(false);
            return false;
        }

        if (_messageMode != ReceiveMode.Discard)
        {
            // Whole: the message; Stream: its last part (possibly empty).
            await DeliverAsync(new WebSocketMessage(type, new ReadOnlySequence<byte>(_assembly.Memory), endOfMessage: true), fromPipe: false).ConfigureAwait(false);
        }

        _assembly.Reset();
        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> InflateInputAsync(ReadOnlyMemory<byte> input, MessageType type, bool isText)
    {
        int offset = 0;
        while (true)
        {
            if (_inflateEnded)
            {
                return true; // after the peer's final block nothing more of this message is deflate data
            }

            bool whole = _messageMode == ReceiveMode.Whole;
            if (!whole && _assembly.Length >= InflatePart)
            {
                if (_messageMode == ReceiveMode.Stream)
                {
                    await DeliverAsync(new WebSocketMessage(type, new ReadOnlySequence<byte>(_assembly.Memory), endOfMessage: false), fromPipe: false).ConfigureAwait(false);
                    if (_messageMode == ReceiveMode.Stream && !_hasRequest)
                    {
                        _messageMode = ReceiveMode.Discard; // closing: the rest is only checked
                    }
                }

                _assembly.Clear();
            }

            // Room for the output: in Whole mode never more than one byte past the limit, so a bomb is caught
            // having allocated at most the limit.
            int room = whole
                ? (int)Math.Min(Math.Clamp((input.Length - offset) * 4L, 4096, 256 * 1024), _options.MaxMessageSize + 1 - _assembly.Length)
                : InflatePart - _assembly.Length;
            Span<byte> output = _assembly.GetSpan(room);
            int outputLength = output.Length;
            int written = InflateInto(input.Span[offset..], output, out int consumed, out int code, out string? error);
            offset += consumed;
            if (error is not null)
            {
                // RFC 7692 §8 leaves the code open; the data is inconsistent with the message type: 1007.
                await FailAsync(ProtocolError.InvalidData("invalid compressed data: " + error)).ConfigureAwait(false);
                return false;
            }

            if (isText && !_utf8.Append(output[..written]))
            {
                await FailAsync(ProtocolError.InvalidData("text message is not valid UTF-8")).ConfigureAwait(false);
                return false;
            }

            _assembly.Advance(written);
            if (whole && _assembly.Length > _options.MaxMessageSize)
            {
                await FailAsync(ProtocolError.TooBig("message exceeds the maximum message size when decompressed")).ConfigureAwait(false);
                return false;
            }

            if (ChargeWork(written))
            {
                // A small frame can inflate to megabytes: never all of it on the thread that completed the read.
                await YieldThread();
            }

            if (consumed == 0 && written == 0 && offset < input.Length)
            {
                // zlib made no progress with input and room to write: it cannot go on with this data.
                await FailAsync(ProtocolError.InvalidData("invalid compressed data: no progress")).ConfigureAwait(false);
                return false;
            }

            if (code == ZlibNative.ZStreamEnd)
            {
                _inflateEnded = true;
                return true;
            }

            if (offset == input.Length && written < outputLength)
            {
                return true; // all input consumed and zlib had no more output to give
            }
        }
    }

    private int InflateInto(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int code, out string? error)
    {
        try
        {
            return _deflate!.Inbound.Acquire().Decompress(input, output, out consumed, out code, out error);
        }
        catch (ObjectDisposedException)
        {
            consumed = input.Length;
            code = ZlibNative.ZDataError;
            error = "connection closed";
            return 0;
        }
    }
}
