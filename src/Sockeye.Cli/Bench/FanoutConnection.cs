using System.Net.Sockets;

namespace Sockeye.Cli.Bench;

/// <summary>
/// One fan-out client's receive side: parses frames in place, checks that messages arrive in order without gaps,
/// counts them and (for subscribers) reports each delivery to the <see cref="FanoutLedger"/>. Answers WebSocket pings
/// and Engine.IO pings. The publisher's own connection is one of these too, with no ledger: servers deliver a
/// publisher's messages back to it (Sockeye's plain clients, the <c>ws</c> broadcast loop, a Socket.IO room it
/// joined), so it reads and checks them but does not count them.
/// </summary>
internal sealed class FanoutConnection
{
    private readonly ServerFrameBuffer _frames;
    private readonly FanoutLedger? _ledger;
    private readonly FanoutProtocol _protocol;
    private readonly int _size;
    private readonly uint _mask;
    private readonly Lock _sendLock = new();
    private long _last;
    private long _deliveries;
    private volatile bool _stopping;
    private volatile bool _closed;
    private string? _error;

    public FanoutConnection(Socket socket, ServerFrameBuffer frames, FanoutLedger? ledger, FanoutSettings settings, uint mask)
    {
        Socket = socket;
        _frames = frames;
        _ledger = ledger;
        _protocol = settings.Protocol;
        _size = settings.Size;
        _mask = mask;
    }

    public Socket Socket { get; }

    /// <summary>Messages received so far (every one of ours, in order).</summary>
    public long Deliveries => Volatile.Read(ref _deliveries);

    /// <summary>The first thing that went wrong, or null.</summary>
    public string? Error => Volatile.Read(ref _error);

    /// <summary>True once the server's close frame arrived (or the connection ended) after <see cref="Stop"/>.</summary>
    public bool Closed => _closed;

    public async Task RunAsync()
    {
        try
        {
            while (Drain())
            {
                int n = await Socket.ReceiveAsync(_frames.FreeSpace(), SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    if (!_stopping)
                    {
                        Fail("the server closed the connection");
                    }

                    return;
                }

                _frames.Commit(n);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidDataException)
        {
            if (!_stopping)
            {
                Fail(ex.Message);
            }
        }
        finally
        {
            _closed = true;
        }
    }

    /// <summary>Sends bytes (the publisher's messages, pongs) whole, one sender at a time.</summary>
    public void Send(ReadOnlySpan<byte> data)
    {
        lock (_sendLock)
        {
            while (!data.IsEmpty)
            {
                data = data[Socket.Send(data)..];
            }
        }
    }

    /// <summary>Starts the closing handshake (§5.5.1); the receive loop ends when the server answers.</summary>
    public void Stop()
    {
        _stopping = true;
        try
        {
            Send(FanoutCloseFrame.Value);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Fail(string message) => Interlocked.CompareExchange(ref _error, message, null);

    // Handles every whole frame in the buffer; false when the connection is done.
    private bool Drain()
    {
        while (_frames.TryRead(out int opcode, out ReadOnlySpan<byte> payload))
        {
            switch (opcode)
            {
                case 0x1 when _protocol == FanoutProtocol.SocketIo && payload.Length == 1 && payload[0] == (byte)'2':
                    // Engine.IO ping: answer pong, or the server drops us after its pingTimeout.
                    SendFrame(0x1, "3"u8);
                    break;
                case 0x1:
                    if (!Count(payload))
                    {
                        return false;
                    }

                    break;
                case 0x8:
                    if (!_stopping)
                    {
                        Fail($"the server sent a close frame ({CloseFrameText(payload)})");
                    }

                    return false;
                case 0x9:
                    SendFrame(0xA, payload);
                    break;
                case 0xA:
                    break;
                default:
                    Fail($"unexpected frame, opcode {opcode} (the messages are text)");
                    return false;
            }
        }

        return true;
    }

    private bool Count(ReadOnlySpan<byte> message)
    {
        long seq = FanoutPayload.ReadSequence(message, _protocol, _size);
        if (seq <= 0)
        {
            Fail($"unexpected message of {message.Length} bytes: {Preview(message)}");
            return false;
        }

        if (_last != 0 && seq != _last + 1)
        {
            Fail($"message {seq} arrived after {_last}: lost, repeated or out of order");
            return false;
        }

        _last = seq;
        Volatile.Write(ref _deliveries, _deliveries + 1);
        if (_ledger is not null && !_ledger.Deliver(seq))
        {
            Fail($"message {seq} was delivered more often than there are subscribers, or before it was sent");
            return false;
        }

        return true;
    }

    private void SendFrame(int opcode, ReadOnlySpan<byte> payload)
    {
        Span<byte> frame = stackalloc byte[8 + payload.Length];
        int header = ClientFrame.WriteHeader(frame, opcode, payload.Length, _mask);
        payload.CopyTo(frame[header..]);
        ClientFrame.Mask(frame.Slice(header, payload.Length), _mask);
        Send(frame[..(header + payload.Length)]);
    }

    private static string CloseFrameText(ReadOnlySpan<byte> payload) =>
        payload.Length >= 2
            ? $"{(payload[0] << 8) | payload[1]} {System.Text.Encoding.UTF8.GetString(payload[2..])}".TrimEnd()
            : "no code";

    private static string Preview(ReadOnlySpan<byte> message) =>
        System.Text.Encoding.UTF8.GetString(message[..Math.Min(message.Length, 60)]);
}

/// <summary>The client's close frame: 1000, masked.</summary>
internal static class FanoutCloseFrame
{
    public static readonly byte[] Value = ClientFrame.Build(0x8, [0x03, 0xE8], 0x5A17C0DE);
}
