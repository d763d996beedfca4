using System.Net.Sockets;

namespace Sockeye.Cli.Exec;

/// <summary>A backend connection for <c>--proxy</c>: EOF is a half-close; stopping waits for the backend's EOF, then cuts.</summary>
internal sealed class SocketPeer(Socket socket, string name) : IBridgePeer, IDisposable
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: true);

    public string Name { get; } = name;

    public Stream Input => _stream;

    public Stream Output => _stream;

    /// <summary>A socket has no life apart from its output: the backend closing it is the end.</summary>
    public Task Ended => Task.CompletedTask;

    public void CloseInput()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    public (ushort Code, string? Reason) EndStatus() => (CloseCode.NormalClosure, "backend closed the connection");

    public async Task StopAsync(TimeSpan grace, Task outputDone)
    {
        await Task.WhenAny(outputDone, Task.Delay(grace)).ConfigureAwait(false);
        _stream.Dispose(); // unblocks a pending read or write
    }

    public void Dispose() => _stream.Dispose();
}
