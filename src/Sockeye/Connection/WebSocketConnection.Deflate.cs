using System.Buffers;
using System.Runtime.CompilerServices;
using Sockeye.Extensions;
using Sockeye.Protocol;

namespace Sockeye;

public sealed partial class WebSocketConnection
{
    private static readonly byte[] s_emptyDeflateBlock = [0x00];

    /// <summary>
    /// Writes a message (or, from a <see cref="WebSocketMessageWriter"/>, one fragment of it) compressed (RFC 7692
    /// §7.2.1): raw deflate ending in a sync flush, whose trailing <c>00 00 ff ff</c> is removed from the message's
    /// last frame. RSV1 goes on the first frame only (§6). Output that outgrows the scratch buffer leaves as extra
    /// fragments, so a large message never needs a buffer of its whole compressed size. Caller holds the frame lock.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteCompressedLockedAsync(Opcode opcode, bool fin, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        ZlibContext<ZlibDeflater> context = _deflate!.Outbound;
        byte rsv = opcode == Opcode.Continuation ? (byte)0 : PerMessageDeflate.Rsv1;
        byte[] scratch = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(payload.Length + (payload.Length >> 8) + 64, 128, FlushChunk));
        try
        {
            ZlibDeflater deflater;
            try
            {
                deflater = context.Acquire();
            }
            catch (ObjectDisposedException)
            {
                throw new WebSocketClosedException("The connection is closed; the message was not sent.");
            }

            int filled = 0;
            ReadOnlySequence<byte> rest = payload;
            do
            {
                ReadOnlyMemory<byte> segment = rest.First;
                rest = rest.Slice(segment.Length);
                bool last = rest.IsEmpty;
                int offset = 0;
                while (true)
                {
                    // At most a work budget of input per call, so a large message yields its thread between slices.
                    int end = (int)Math.Min(segment.Length, (long)offset + WorkBudget);
                    bool final = last && end == segment.Length;
                    filled += deflater.Compress(segment.Span[offset..end], scratch.AsSpan(filled), final ? ZlibNative.ZSyncFlush : ZlibNative.ZNoFlush,
                        out int consumed, out bool done);
                    offset += consumed;
                    if (ChargeWork(consumed))
                    {
                        await YieldThread(); // the frame lock stays held: other senders wait as they would anyway
                    }

                    if (final ? done : offset == segment.Length)
                    {
                        break;
                    }

                    if (filled == scratch.Length)
                    {
                        // Out of room: send what we have as a fragment, keeping back four bytes that may turn out to
                        // be the tail that §7.2.1 removes.
                        WriteRawFrame(opcode, rsv, fin: false, scratch.AsSpan(0, filled - 4));
                        opcode = Opcode.Continuation;
                        rsv = 0;
                        scratch.AsSpan(filled - 4, 4).CopyTo(scratch);
                        filled = 4;
                        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            while (!rest.IsEmpty);

            ReadOnlySpan<byte> data = scratch.AsSpan(0, filled);
            if (fin)
            {
                if (data.EndsWith(PerMessageDeflate.Tail))
                {
                    data = data[..^4];
                }
                else if (data.IsEmpty)
                {
                    // zlib had nothing to flush (an empty message right after a flush): an empty stored block's
                    // first byte; the receiver's appended tail completes it (§7.2.3.6).
                    data = s_emptyDeflateBlock;
                }
            }

            WriteRawFrame(opcode, rsv, fin, data);
        }
        finally
        {
            // A fragment in the middle keeps the stream for the rest of the message (EndMessage is a no-op when the
            // stream was never acquired).
            if (fin || _outputClosed)
            {
                context.EndMessage();
            }

            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private void WriteRawFrame(Opcode opcode, byte rsv, bool fin, ReadOnlySpan<byte> data)
    {
        bool masked = _role == Role.Client;
        uint key = masked ? NextMaskingKey() : 0;
        WriteHeader(opcode, fin, data.Length, masked, key, rsv);
        int keyOffset = 0;
        while (!data.IsEmpty)
        {
            int n = CopyToOutput(data, masked, key, ref keyOffset);
            data = data[n..];
        }
    }
}
