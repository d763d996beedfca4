using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Unicode;
using System.Threading.Channels;
using Sockeye.Conformance.Deflate;

namespace Sockeye.Conformance.Wire;

/// <summary>
/// An open WebSocket connection after the handshake. A background loop reads and checks the peer's frames
/// and turns them into <see cref="WireEvent"/>s; writes are raw bytes so cases can send anything.
/// </summary>
internal sealed class WireConnection : IAsyncDisposable
{
    /// <summary>Upper bound for one message from the peer; the largest legal echo in the suite is 16 MiB.</summary>
    private const int MaxMessageBytes = 64 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly InputBuffer _input;
    private readonly Channel<WireEvent> _events = Channel.CreateUnbounded<WireEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task _readLoop = Task.CompletedTask;
    private WireEvent? _terminal;

    public WireConnection(Socket socket, NetworkStream stream, InputBuffer input, Role role)
    {
        _socket = socket;
        _stream = stream;
        _input = input;
        Role = role;
    }

    public Role Role { get; }

    /// <summary>permessage-deflate when negotiated (RFC 7692); set before <see cref="Start"/>, disposed with the connection.</summary>
    public DeflateSession? Deflate { get; set; }

    /// <summary>Set once we have written a close frame; after that we no longer answer pings (RFC 6455 5.5.1).</summary>
    public bool CloseSent { get; set; }

    public long ElapsedMs => _clock.ElapsedMilliseconds;

    public void Start() => _readLoop = Task.Run(() => ReadLoopAsync(_stop.Token));

    /// <summary>Writes raw bytes; false if the connection is already gone (expected in cases where the peer fails it).</summary>
    public async Task<bool> WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(data, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The next event, or null if none arrived within <paramref name="timeout"/>. Terminal events repeat forever.</summary>
    public async Task<WireEvent?> NextAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            if (await _events.Reader.WaitToReadAsync(cts.Token) && _events.Reader.TryRead(out var next))
            {
                return next;
            }

            return _terminal;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Half-closes our side (FIN) as the server does first per RFC 6455 7.1.1.</summary>
    public void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone: nothing left to shut down.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _readLoop;
        }
        catch (OperationCanceledException)
        {
            // Expected: the loop was stopped.
        }

        await _stream.DisposeAsync();
        Deflate?.Dispose();
        _stop.Dispose();
        _writeLock.Dispose();
    }

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        var assembler = new MessageAssembler(Deflate, MaxMessageBytes);
        var closeReceived = false;
        var header = new byte[14];
        try
        {
            while (true)
            {
                if (!await _input.TryReadExactlyAsync(header.AsMemory(0, 2), cancellationToken))
                {
                    Finish(new DisconnectedEvent("closed by peer (EOF)"));
                    return;
                }

                var fin = (header[0] & 0x80) != 0;
                var rsv = (header[0] >> 4) & 0x7;
                var opcode = (byte)(header[0] & 0xF);
                var masked = (header[1] & 0x80) != 0;
                long length = header[1] & 0x7F;
                if (length == 126)
                {
                    await _input.ReadExactlyAsync(header.AsMemory(2, 2), cancellationToken);
                    length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
                }
                else if (length == 127)
                {
                    await _input.ReadExactlyAsync(header.AsMemory(2, 8), cancellationToken);
                    length = (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(2));
                }

                var problem = CheckHeader(fin, rsv, opcode, masked, length, closeReceived);
                if (problem is not null)
                {
                    Finish(new ViolationEvent(problem));
                    return;
                }

                var key = new byte[4];
                if (masked)
                {
                    await _input.ReadExactlyAsync(key, cancellationToken);
                }

                var payload = new byte[length];
                await _input.ReadExactlyAsync(payload, cancellationToken);
                if (masked)
                {
                    FrameEncoder.ApplyMask(payload, key, 0);
                }

                var wireEvent = opcode switch
                {
                    Opcodes.Ping => new PingEvent(payload),
                    Opcodes.Pong => new PongEvent(payload),
                    Opcodes.Close => ParseClose(payload),
                    _ => assembler.Add(opcode, fin, (rsv & 4) != 0, payload),
                };

                if (wireEvent is null)
                {
                    continue; // a non-final fragment
                }

                if (wireEvent is ViolationEvent)
                {
                    Finish(wireEvent);
                    return;
                }

                closeReceived |= wireEvent is CloseEvent;
                Publish(wireEvent);
                if (wireEvent is PingEvent ping && !CloseSent && !closeReceived)
                {
                    // RFC 6455 5.5.2: we must answer pings ourselves, like any endpoint.
                    var pong = FrameEncoder.Encode(new OutFrame(Opcodes.Pong, ping.Payload), mask: Role == Role.Client);
                    await WriteAsync(pong, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Finish(new DisconnectedEvent("closed by us"));
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Finish(new DisconnectedEvent($"dropped ({ex.GetBaseException().Message})"));
        }
        catch (Exception ex)
        {
            // A bug in this loop must end the case visibly, not leave it waiting for events that never come.
            Finish(new ViolationEvent($"(harness error in the frame reader: {ex.GetType().Name}: {ex.Message})"));
        }
    }

    /// <summary>RFC 6455 5.1, 5.2, 5.5 and 5.5.1 checks that can be made from the frame header alone.</summary>
    private string? CheckHeader(bool fin, int rsv, byte opcode, bool masked, long length, bool closeReceived)
    {
        if (Role == Role.Server && !masked)
        {
            return "an unmasked frame (RFC 6455 5.1: a client MUST mask every frame)";
        }

        if (Role == Role.Client && masked)
        {
            return "a masked frame (RFC 6455 5.1: a server MUST NOT mask frames)";
        }

        if (closeReceived)
        {
            return $"a {Opcodes.Name(opcode)} frame after its Close frame (RFC 6455 5.5.1: no frames after Close)";
        }

        if (rsv != 0 && Deflate is null)
        {
            return $"a frame with RSV bits {rsv} set though no extension was negotiated (RFC 6455 5.2)";
        }

        if ((rsv & 3) != 0)
        {
            return $"a frame with RSV2/RSV3 set ({rsv}); permessage-deflate defines only RSV1 (RFC 6455 5.2, RFC 7692 6)";
        }

        if (rsv != 0 && (Opcodes.IsControl(opcode) || opcode == Opcodes.Continuation))
        {
            return $"RSV1 set on a {Opcodes.Name(opcode)} frame; it marks only the first frame of a compressed data message (RFC 7692 6.1)";
        }

        if (Opcodes.IsReserved(opcode))
        {
            return $"a frame with reserved opcode {opcode} (RFC 6455 5.2)";
        }

        if (Opcodes.IsControl(opcode) && (!fin || length > 125))
        {
            return $"a {Opcodes.Name(opcode)} frame fragmented or longer than 125 bytes (RFC 6455 5.5)";
        }

        if (length < 0)
        {
            return "a 64-bit payload length with the most significant bit set (RFC 6455 5.2)";
        }

        return length > MaxMessageBytes ? $"a frame of {length} bytes, over the suite's {MaxMessageBytes} byte limit" : null;
    }

    /// <summary>RFC 6455 5.5.1 and 7.4: a close payload is empty or a valid code plus a UTF-8 reason.</summary>
    private static WireEvent ParseClose(byte[] payload)
    {
        if (payload.Length == 0)
        {
            return new CloseEvent(null, "");
        }

        if (payload.Length == 1)
        {
            return new ViolationEvent("a close frame with a 1-byte payload (RFC 6455 5.5.1)");
        }

        var code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!CloseCodes.IsValidOnWire(code))
        {
            return new ViolationEvent($"a close frame with invalid status code {code} (RFC 6455 7.4)");
        }

        var reason = payload.AsSpan(2);
        return Utf8.IsValid(reason)
            ? new CloseEvent(code, Encoding.UTF8.GetString(reason))
            : new ViolationEvent("a close frame whose reason is not valid UTF-8 (RFC 6455 5.5.1)");
    }

    private void Publish(WireEvent wireEvent) => _events.Writer.TryWrite(wireEvent with { AtMs = ElapsedMs });

    private void Finish(WireEvent terminal)
    {
        if (_terminal is not null)
        {
            return;
        }

        _terminal = terminal with { AtMs = ElapsedMs };
        _events.Writer.TryWrite(_terminal);
        _events.Writer.TryComplete();
    }
}
