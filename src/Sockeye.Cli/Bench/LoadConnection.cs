using System.Diagnostics;
using System.Net.Sockets;

namespace Sockeye.Cli.Bench;

/// <summary>
/// One connection keeping <c>window</c> messages in flight. A receive loop parses echoes and
/// grants one send credit per completed message; a send loop turns all pending credits into a
/// single send of prebuilt frames. Echoes arrive in order, so message n's send time lives in
/// ring slot n % window. Nothing is allocated per message. With permessage-deflate an
/// <see cref="EchoVerifier"/> checks echo contents (all of them on sampled connections).
/// </summary>
internal sealed class LoadConnection : IDisposable
{
    private const int ReceiveBufferSize = 64 * 1024;
    private const int DiscardThreshold = 4096;

    private static readonly bool DiscardSupported = OperatingSystem.IsLinux();

    private readonly Socket _socket;
    private readonly FrameTemplate _frames;
    private readonly RunPhase _phase;
    private readonly EchoFrameReader _reader;
    private readonly byte[] _receiveBuffer;
    private readonly long[] _sentAt;
    private readonly AsyncSignal _creditSignal = new();
    private readonly EchoVerifier? _verifier;
    private int _leftover;
    private int _credits;
    private int _nextMessage;
    private long _received;
    private string? _error;

    /// <param name="first">Index in the message cycle this connection starts at.</param>
    /// <param name="sampled">With deflate: check the contents of every echo, not only the first.</param>
    public LoadConnection(
        Socket socket, byte[] receiveBuffer, int leftover, MessageSet messages, FrameTemplate frames, int first, bool sampled,
        DeflateAgreement? deflate, RunPhase phase, BenchSettings settings)
    {
        _socket = socket;
        _receiveBuffer = receiveBuffer;
        _leftover = leftover;
        _frames = frames;
        _phase = phase;
        _nextMessage = first;
        _reader = new EchoFrameReader(settings.Size, settings.Text, settings.RawBaseline, deflate is not null);
        if (deflate is not null)
        {
            _verifier = new EchoVerifier(_reader, messages, first, sampled);
            _reader.Sink = _verifier;
        }

        _sentAt = new long[settings.Window];
        _credits = settings.Window;
    }

    public LatencyHistogram Latency { get; } = new();

    /// <summary>Echoes received in any phase; read by the progress display.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Echoes received while measuring.</summary>
    public long Measured { get; private set; }

    public string? Error => Volatile.Read(ref _error);

    /// <summary>Messages sent while measuring.</summary>
    public long MeasuredSent { get; private set; }

    /// <summary>Frame bytes sent while measuring.</summary>
    public long MeasuredSentBytes { get; private set; }

    /// <summary>Frame bytes of the echoes received while measuring.</summary>
    public long MeasuredReceivedBytes { get; private set; }

    /// <summary>Echoes received compressed while measuring.</summary>
    public long MeasuredCompressed { get; private set; }

    /// <summary>Echoes whose contents were checked (any phase).</summary>
    public long Verified => _verifier?.Verified ?? 0;

    public static byte[] NewReceiveBuffer() => new byte[ReceiveBufferSize];

    /// <summary>Runs until the close handshake that follows <see cref="Stop"/>, or a failure.</summary>
    public async Task RunAsync()
    {
        var send = SendLoopAsync();
        var receive = ReceiveLoopAsync();
        await Task.WhenAll(send, receive).ConfigureAwait(false);
        Dispose();
    }

    /// <summary>Releases the socket and the inflater; <see cref="RunAsync"/> does so when it ends.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        _verifier?.Dispose();
    }

    /// <summary>Wakes the sender after the phase became stopping, so it sends a close frame.</summary>
    public void Stop() => _creditSignal.Set();

    /// <summary>Fails the connection and unblocks both loops.</summary>
    public void Abort(string reason) => Fail(reason);

    private async Task SendLoopAsync()
    {
        try
        {
            var slot = 0;
            while (!_phase.Stopping && Error is null)
            {
                var credits = Interlocked.Exchange(ref _credits, 0);
                if (credits == 0)
                {
                    await _creditSignal.WaitAsync().ConfigureAwait(false);
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                for (var i = 0; i < credits; i++)
                {
                    _sentAt[slot] = now;
                    slot = slot + 1 == _sentAt.Length ? 0 : slot + 1;
                }

                var measuring = _phase.Measuring;
                while (credits > 0)
                {
                    var count = Math.Min(credits, _frames.Copies);
                    var batch = _frames.Frames(_nextMessage, count);
                    _nextMessage = (_nextMessage + count) % _frames.Distinct;
                    if (measuring)
                    {
                        MeasuredSent += count;
                        MeasuredSentBytes += batch.Length;
                    }

                    await ClientHandshake.SendAllAsync(_socket, batch, default).ConfigureAwait(false);
                    credits -= count;
                }
            }

            if (Error is null)
            {
                await ClientHandshake.SendAllAsync(_socket, FrameTemplate.CloseFrame, default).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            Fail($"send: {ex.Message}");
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            var slot = 0;
            while (true)
            {
                if (DiscardSupported && _leftover == 0 && _reader.PayloadRemaining > DiscardThreshold && _reader.Sink is null)
                {
                    // Inside a large payload: let the kernel drop the bytes instead of copying them
                    // out (Linux MSG_TRUNC on TCP), so big messages do not make this client the bottleneck.
                    var length = (int)Math.Min(_reader.PayloadRemaining - 1, _receiveBuffer.Length);
                    var discarded = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(0, length), SocketFlags.Truncated).ConfigureAwait(false);
                    if (discarded == 0)
                    {
                        Fail("server closed the TCP connection without a close frame");
                        return;
                    }

                    _reader.SkipPayload(discarded);
                    continue;
                }

                var read = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(_leftover), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    Fail("server closed the TCP connection without a close frame");
                    return;
                }

                var available = _leftover + read;
                var wireBefore = _reader.WireBytes;
                var compressedBefore = _reader.CompressedMessages;
                var consumed = _reader.Parse(_receiveBuffer.AsSpan(0, available), out var messages, out var closed);

                // One timestamp per read: every echo in this buffer arrived together.
                var now = Stopwatch.GetTimestamp();
                var measuring = _phase.Measuring;
                for (var i = 0; i < messages; i++)
                {
                    if (measuring)
                    {
                        Latency.Record(now - _sentAt[slot]);
                    }

                    slot = slot + 1 == _sentAt.Length ? 0 : slot + 1;
                }

                if (measuring)
                {
                    Measured += messages;
                    MeasuredReceivedBytes += _reader.WireBytes - wireBefore;
                    MeasuredCompressed += _reader.CompressedMessages - compressedBefore;
                }

                Volatile.Write(ref _received, _received + messages);

                if (closed)
                {
                    if (!_phase.Stopping)
                    {
                        Fail("server sent a close frame during the run");
                    }

                    return;
                }

                _leftover = available - consumed;
                _receiveBuffer.AsSpan(consumed, _leftover).CopyTo(_receiveBuffer);

                if (messages > 0 && !_phase.Stopping)
                {
                    Interlocked.Add(ref _credits, messages);
                    _creditSignal.Set();
                }
            }
        }
        catch (InvalidDataException ex)
        {
            Fail($"protocol: {ex.Message}");
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            Fail($"receive: {ex.Message}");
        }
    }

    private void Fail(string reason)
    {
        // The first failure is the cause; the dispose makes the other loop fail too.
        if (Interlocked.CompareExchange(ref _error, reason, null) is null)
        {
            _socket.Dispose();
            _creditSignal.Set();
        }
    }
}
