using System.Net;
using System.Net.Sockets;

namespace Sockeye.Nats.Tests;

/// <summary>A loopback TCP relay in front of one node's NATS connection: <see cref="CutAsync"/> drops its connections, as a network failure between that node and NATS would (the others keep theirs).</summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile bool _held;

    public TcpProxy(int target)
    {
        _target = target;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Url => $"nats://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections relayed so far (a reconnect makes a new one).</summary>
    public int Accepted { get; private set; }

    /// <summary>
    /// Drops the relayed connections and, until <see cref="Restore"/>, refuses new ones: the link stays down however
    /// fast the client reconnects, so what happens while it is down is not left to a race.
    /// </summary>
    public Task CutAsync()
    {
        _held = true;
        return DropAsync();
    }

    /// <summary>Lets the client reconnect again.</summary>
    public void Restore() => _held = false;

    private Task DropAsync()
    {
        lock (_open)
        {
            foreach (TcpClient client in _open)
            {
                if (client.Client is { } socket)
                {
                    socket.LingerState = new LingerOption(true, 0); // RST, as a dead link
                }

                client.Dispose();
            }

            _open.Clear();
        }

        return Task.CompletedTask;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                TcpClient inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                if (_held)
                {
                    inbound.Client.LingerState = new LingerOption(true, 0);
                    inbound.Dispose(); // the link is down: refused like a dead network path
                    continue;
                }

                var outbound = new TcpClient();
                await outbound.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                lock (_open)
                {
                    _open.Add(inbound);
                    _open.Add(outbound);
                    Accepted++;
                }

                _ = PumpAsync(inbound, outbound);
                _ = PumpAsync(outbound, inbound);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        byte[] buffer = new byte[16384];
        try
        {
            while (true)
            {
                int read = await from.GetStream().ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                await to.GetStream().WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }

        from.Dispose();
        to.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await DropAsync();
        _stop.Dispose();
    }
}
