using System.Runtime.InteropServices;

namespace Sockeye.Server;

/// <summary>
/// A token canceled by Ctrl-C (SIGINT) or SIGTERM, for console apps without a generic host: the process then shuts
/// down gracefully (connections closed with 1001) and exits by itself, instead of being killed by the signal.
/// </summary>
/// <example>
/// <code>
/// using var shutdown = new ShutdownSignal();
/// await server.RunAsync(shutdown.Token); // returns after Ctrl-C / SIGTERM, once connections are closed
/// </code>
/// </example>
public sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _sigterm;
    private readonly PosixSignalRegistration _sigint;

    /// <summary>Starts listening for SIGINT and SIGTERM (Ctrl-C and Ctrl-Break, and service stop, on Windows).</summary>
    public ShutdownSignal()
    {
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    /// <summary>Canceled when the first signal arrives.</summary>
    public CancellationToken Token => _cts.Token;

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the process exits by itself, after closing connections
        _cts.Cancel();
    }

    /// <summary>Stops listening: signals have their default effect (terminating the process) again.</summary>
    public void Dispose()
    {
        _sigterm.Dispose();
        _sigint.Dispose();
        _cts.Dispose();
    }
}
