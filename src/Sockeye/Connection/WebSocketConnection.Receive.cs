using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sockeye.Diagnostics;
using Sockeye.Extensions;
using Sockeye.Protocol;

namespace Sockeye;

public sealed partial class WebSocketConnection
{
    private ReceiveRules _rules;
    private Utf8Validator _utf8;
    private readonly PooledBuffer _assembly = new();

    // The frame being read: its header was consumed, its payload may still be arriving.
    private bool _inFrame;
    private FrameHeader _frame;
    private long _frameRemaining;
    private int _maskOffset;
    private Opcode _messageOpcode;
    private ReceiveMode _messageMode;
    private bool _messageCompressed;   // RSV1 on the message's first frame (RFC 7692 §6)
    private bool _inflateEnded;        // the peer closed its deflate stream (BFINAL) inside this message

    // Whether the application has a receive pending that this loop has not answered yet, and its mode.
    private bool _hasRequest;
    private ReceiveMode _requestMode;

    // A delivered payload the application may still be reading when it closes without receiving again: it stays in
    // the pipe (never consumed) while the loop goes on to read the close reply. See DeliverAsync.
    private SequencePosition? _retainFrom;
    private long _retainedOffset = -1;

    // True while the read loop waits for the application to receive: unread pongs then prove nothing.
    private volatile bool _waitingForApp;

    private bool _closeReceived;
    private bool _failed;

    /// <summary>
    /// The one read loop: parses frames straight from the input pipe's buffers, answers control frames, and hands
    /// data to the application. Payload is unmasked in place; a single-frame message already in the buffer is
    /// delivered without any copy.
    /// </summary>
    private async Task ReadLoopAsync()
    {
        try
        {
            while (!_closeReceived && !_failed)
            {
                ReadResult result;
                try
                {
                    result = await _input.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
                {
                    Log.TransportError(_logger, Id, ex.Message);
                    break;
                }

                ReadOnlySequence<byte> whole = result.Buffer;
                // While a delivered payload is retained (see DeliverAsync), parsing resumes after what was parsed.
                ReadOnlySequence<byte> buffer = _retainedOffset >= 0 ? whole.Slice(_retainedOffset) : whole;
                SequencePosition consumed = buffer.Start;
                _lastReceived = Environment.TickCount64;
                StartWorkBatch();
                // Cork while this batch is processed: everything sent meanwhile (echoes, pongs) leaves in one write.
                _corked = true;
                try
                {
                    consumed = await ProcessAsync(buffer).ConfigureAwait(false);
                }
                finally
                {
                    if (_retainFrom is { } retainFrom)
                    {
                        // Keep the retained payload (and everything after it) in the pipe; remember how far we parsed.
                        _retainedOffset = whole.Slice(retainFrom, consumed).Length;
                        _retainFrom = null;
                        _input.AdvanceTo(retainFrom, whole.End);
                    }
                    else if (_retainedOffset >= 0)
                    {
                        _retainedOffset = whole.Slice(whole.Start, consumed).Length;
                        _input.AdvanceTo(whole.Start, whole.End);
                    }
                    else
                    {
                        _input.AdvanceTo(consumed, whole.End);
                    }

                    Uncork();
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            Log.TransportError(_logger, Id, ex.Message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug of ours must cost this connection only: log it, report 1011, and still release everything.
            Log.InternalError(_logger, Id, ex);
            _failed = true;
            CloseStatus ??= CloseCode.InternalError;
            CloseReason ??= "internal error";
            _transport.Abort();
        }

        if (!_closeReceived && !_failed)
        {
            // §7.1.5: the TCP connection closed without a close frame: status 1006.
            Log.AbnormalEnd(_logger, Id);
            CloseStatus ??= CloseCode.AbnormalClosure;
            CloseReason ??= string.Empty;
        }

        _closeReceivedSignal.TrySetResult();
        _handoff.Complete();
        _deflate?.Inbound.EndMessage(); // a message cut short still gives its zlib stream back
        await FinishAsync().ConfigureAwait(false);
    }

    /// <summary>Parses what is buffered; returns how far it was consumed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SequencePosition> ProcessAsync(ReadOnlySequence<byte> buffer)
    {
        while (!_closeReceived && !_failed)
        {
            if (!_inFrame)
            {
                OperationStatus status = FrameHeader.TryRead(buffer, out FrameHeader header, out ProtocolError headerError);
                if (status == OperationStatus.NeedMoreData)
                {
                    break;
                }

                if (status == OperationStatus.InvalidData)
                {
                    await FailAsync(headerError).ConfigureAwait(false);
                    break;
                }

                // Frames that are invalid whatever the delivery mode are failed at once, without waiting for the
                // application. A new data message then needs a receive call, whose mode decides the size limit.
                ProtocolError frameError = _rules.CheckFrame(header);
                if (frameError.IsError)
                {
                    await FailAsync(frameError).ConfigureAwait(false);
                    break;
                }

                bool startsMessage = header.Opcode is Opcode.Text or Opcode.Binary;
                if (startsMessage)
                {
                    if (!_hasRequest)
                    {
                        _requestMode = await WaitForApplicationAsync().ConfigureAwait(false);
                        // A Discard answer is not a receive call: the next message must wait for a real one again.
                        _hasRequest = _requestMode != ReceiveMode.Discard;
                    }

                    _messageMode = _requestMode;
                }

                ProtocolError error = _rules.OnHeader(header, out _messageOpcode, unlimitedMessage: _messageMode == ReceiveMode.Stream);
                if (error.IsError)
                {
                    await FailAsync(error).ConfigureAwait(false);
                    break;
                }

                if (startsMessage)
                {
                    // §6: RSV1 on the first frame marks the whole message compressed (continuations carry no RSV1;
                    // ReceiveRules refuses it there and on control frames).
                    _messageCompressed = (header.Rsv & PerMessageDeflate.Rsv1) != 0;
                    _inflateEnded = false;
                }

                buffer = buffer.Slice(header.Size);
                _frame = header;
                _frameRemaining = header.PayloadLength;
                _maskOffset = 0;
                _inFrame = true;
                if (ChargeFrame(_messageCompressed ? 0 : header.PayloadLength))
                {
                    // This batch has had its share of the thread (see WorkBudget): go on from the thread pool. The
                    // buffer stays ours until the batch ends, so nothing changes but the thread.
                    await YieldThread();
                }
            }

            if (_frame.Opcode.IsControl())
            {
                if (buffer.Length < _frameRemaining)
                {
                    break;
                }

                ReadOnlySequence<byte> payload = buffer.Slice(0, _frameRemaining);
                buffer = buffer.Slice(payload.End);
                _inFrame = false;
                await HandleControlFrameAsync(payload).ConfigureAwait(false);
                continue;
            }

            (bool progressed, buffer) = await ProcessDataAsync(buffer).ConfigureAwait(false);
            if (!progressed)
            {
                break;
            }
        }

        return buffer.Start;
    }

    /// <summary>Reads the current data frame's payload as far as it is buffered. Returns false when it needs more.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(bool Progressed, ReadOnlySequence<byte> Remaining)> ProcessDataAsync(ReadOnlySequence<byte> buffer)
    {
        bool isText = _messageOpcode == Opcode.Text;
        MessageType type = isText ? MessageType.Text : MessageType.Binary;
        bool firstFrame = _frame.Opcode != Opcode.Continuation;
        if (firstFrame && _frameRemaining == _frame.PayloadLength)
        {
            _utf8.Reset();
        }

        if (!_hasRequest)
        {
            _messageMode = ReceiveMode.Discard; // the application stopped receiving mid-message
        }

        // Fast path: a whole single-frame message is in the buffer. Unmask in place and lend it to the application.
        if (_messageMode == ReceiveMode.Whole && !_messageCompressed && _frame.Fin && firstFrame && _frameRemaining == _frame.PayloadLength && buffer.Length >= _frameRemaining)
        {
            ReadOnlySequence<byte> payload = buffer.Slice(0, _frameRemaining);
            Unmask(payload);
            if (isText && !ValidateUtf8(payload))
            {
                await FailAsync(ProtocolError.InvalidData("text message is not valid UTF-8")).ConfigureAwait(false);
                return (false, buffer);
            }

            if (isText && !_utf8.IsComplete)
            {
                await FailAsync(ProtocolError.InvalidData("text message ends inside a UTF-8 sequence")).ConfigureAwait(false);
                return (false, buffer);
            }

            _inFrame = false;
            await DeliverAsync(new WebSocketMessage(type, payload, endOfMessage: true), fromPipe: true).ConfigureAwait(false);
            return (true, buffer.Slice(payload.End));
        }

        long available = Math.Min(buffer.Length, _frameRemaining);
        bool frameEnds = available == _frameRemaining;
        if (available == 0 && !frameEnds)
        {
            return (false, buffer);
        }

        ReadOnlySequence<byte> chunk = buffer.Slice(0, available);
        Unmask(chunk);
        if (_messageCompressed)
        {
            _frameRemaining -= available;
            if (frameEnds)
            {
                _inFrame = false;
            }

            bool ok = await InflateAsync(chunk, frameEnds && _frame.Fin, type, isText).ConfigureAwait(false);
            return (ok, ok ? buffer.Slice(chunk.End) : buffer);
        }

        // §8.1 / fail fast: check each chunk as it arrives, so invalid text fails before the message is complete.
        if (isText && !ValidateUtf8(chunk))
        {
            await FailAsync(ProtocolError.InvalidData("text message is not valid UTF-8")).ConfigureAwait(false);
            return (false, buffer);
        }

        _frameRemaining -= available;
        bool messageEnds = frameEnds && _frame.Fin;
        if (messageEnds && isText && !_utf8.IsComplete)
        {
            await FailAsync(ProtocolError.InvalidData("text message ends inside a UTF-8 sequence")).ConfigureAwait(false);
            return (false, buffer);
        }

        if (frameEnds)
        {
            _inFrame = false;
        }

        switch (_messageMode)
        {
            case ReceiveMode.Whole:
                foreach (ReadOnlyMemory<byte> segment in chunk)
                {
                    _assembly.Append(segment.Span);
                }

                if (messageEnds)
                {
                    await DeliverAsync(new WebSocketMessage(type, new ReadOnlySequence<byte>(_assembly.Memory), endOfMessage: true), fromPipe: false).ConfigureAwait(false);
                    _assembly.Reset();
                }

                break;
            case ReceiveMode.Stream:
                if (available > 0 || messageEnds)
                {
                    await DeliverAsync(new WebSocketMessage(type, chunk, messageEnds), fromPipe: true).ConfigureAwait(false);
                }

                break;
            default:
                if (messageEnds)
                {
                    _assembly.Reset();
                }

                break;
        }

        return (true, buffer.Slice(chunk.End));
    }

    /// <summary>
    /// Waits for the application's next receive. When it is already there (the usual case: the application's code
    /// ran inline during the delivery and asked again), the batch stays corked; otherwise the sends queued so far go
    /// out first, because the application may now be sending from another thread.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReceiveMode> WaitForApplicationAsync()
    {
        ValueTask<ReceiveMode> request = _handoff.WaitForRequestAsync();
        if (request.IsCompletedSuccessfully)
        {
            return request.Result;
        }

        Uncork();
        _waitingForApp = true;
        ReceiveMode mode = await request.ConfigureAwait(false);
        _waitingForApp = false;
        _corked = true;
        return mode;
    }

    /// <summary>Hands a message to the pending receive, then waits for the next receive, which releases its bytes.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DeliverAsync(WebSocketMessage message, bool fromPipe)
    {
        SockeyeMetrics.Received(message.Payload.Length, message.EndOfMessage);
        _handoff.Deliver(message);
        _requestMode = await WaitForApplicationAsync().ConfigureAwait(false);
        _hasRequest = _requestMode != ReceiveMode.Discard;
        if (!_hasRequest)
        {
            // Woken by a close (or the end of the connection), not by the next receive: the application may still
            // be reading the payload, so its bytes must not be reused. Pipe bytes stay unconsumed; an assembled
            // buffer is left to the garbage collector instead of going back to the pool.
            if (fromPipe && _retainFrom is null && _retainedOffset < 0)
            {
                _retainFrom = message.Payload.Start;
            }
            else if (!fromPipe)
            {
                _assembly.Abandon();
            }
        }
    }

    private void Unmask(in ReadOnlySequence<byte> payload)
    {
        if (!_frame.Masked)
        {
            return;
        }

        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            // The pipe's buffers are ours until consumed, so unmasking in place is safe and saves a copy.
            _maskOffset = Mask.Apply(MemoryMarshal.AsMemory(segment).Span, _frame.MaskingKey, _maskOffset);
        }
    }

    private bool ValidateUtf8(in ReadOnlySequence<byte> payload)
    {
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            if (!_utf8.Append(segment.Span))
            {
                return false;
            }
        }

        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask HandleControlFrameAsync(ReadOnlySequence<byte> payload)
    {
        int length = (int)payload.Length;
        byte[] body = ArrayPool<byte>.Shared.Rent(FrameHeader.MaxControlPayload);
        try
        {
            payload.CopyTo(body);
            if (_frame.Masked)
            {
                Mask.Apply(body.AsSpan(0, length), _frame.MaskingKey, 0);
            }

            switch (_frame.Opcode)
            {
                case Opcode.Ping:
                    // §5.5.2: answer with a Pong carrying the same application data.
                    await AnswerPingAsync(body, length).ConfigureAwait(false);
                    break;
                case Opcode.Pong:
                    // §5.5.3: an unsolicited Pong is allowed and needs no answer; ours carry a timestamp.
                    OnPong(body.AsSpan(0, length));
                    break;
                case Opcode.Close:
                    await OnCloseFrameAsync(body.AsSpan(0, length).ToArray()).ConfigureAwait(false);
                    break;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private async ValueTask OnCloseFrameAsync(byte[] body)
    {
        ProtocolError error = ClosePayload.TryParse(body, out ushort code, out string reason);
        if (error.IsError)
        {
            await FailAsync(error).ConfigureAwait(false);
            return;
        }

        // §5.5.1: after a Close frame nothing more is read or delivered; answer it unless we already sent ours.
        _closeReceived = true;
        if (CloseStatus is null)
        {
            CloseStatus = code;
            CloseReason = reason;
        }

        _handoff.Complete();
        SignalAborted();
        await SendCloseFrameAsync(code == CloseCode.NoStatusReceived ? CloseCode.NoStatusReceived : code, null).ConfigureAwait(false);
    }

    /// <summary>§7.1.7 Fail the WebSocket Connection: send a close frame with the error's code, then close TCP.</summary>
    private async ValueTask FailAsync(ProtocolError error)
    {
        _failed = true;
        Log.Failing(_logger, Id, error.CloseCode, error.Reason);
        if (CloseStatus is null)
        {
            CloseStatus = error.CloseCode;
            CloseReason = error.Reason;
        }

        _handoff.Complete();
        await SendCloseFrameAsync(error.CloseCode, error.Reason).ConfigureAwait(false);
    }
}
