using System.Diagnostics;
using System.Net.Sockets;

namespace Sockeye.Cli.Bench;

/// <summary>
/// One connection keeping <c>window</c> messages in flight. A receive loop parses echoes and
/// grants one send credit per completed message; a send loop turns all pending credits into a
/// single send of prebuilt frames. Echoes arrive in order, so message n's send time lives in
/// ring slot n % window. Nothing is allocated per message.
/// </summary>
internal sealed class LoadConnection
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
    private int _leftover;
    private int _credits;
    private long _received;
    private string? _error;

    public LoadConnection(Socket socket, byte[] receiveBuffer, int leftover, FrameTemplate frames, RunPhase phase, BenchSettings settings)
    {
        _socket = socket;
        _receiveBuffer = receiveBuffer;
        _leftover = leftover;
        _frames = frames;
        _phase = phase;
        _reader = new EchoFrameReader(settings.Size, settings.Text, settings.RawBaseline);
        _sentAt = new long[settings.Window];
        _credits = settings.Window;
    }

    public LatencyHistogram Latency { get; } = new();

    /// <summary>Echoes received in any phase; read by the progress display.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Echoes received while measuring.</summary>
    public long Measured { get; private set; }

    public string? Error => Volatile.Read(ref _error);

    public static byte[] NewReceiveBuffer() => new byte[ReceiveBufferSize];

    /// <summary>Runs until the close handshake that follows <see cref="Stop"/>, or a failure.</summary>
    public async Task RunAsync()
    {
        var send = SendLoopAsync();
        var receive = ReceiveLoopAsync();
        await Task.WhenAll(send, receive).ConfigureAwait(false);
        _socket.Dispose();
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

                while (credits > 0)
                {
                    var count = Math.Min(credits, _frames.Copies);
                    await ClientHandshake.SendAllAsync(_socket, _frames.Frames(count), default).ConfigureAwait(false);
                    credits -= count;
                }
            }

            if (Error is null)
            {
                await ClientHandshake.SendAllAsync(_socket, _frames.CloseFrame, default).ConfigureAwait(false);
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
                if (DiscardSupported && _leftover == 0 && _reader.PayloadRemaining > DiscardThreshold)
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
