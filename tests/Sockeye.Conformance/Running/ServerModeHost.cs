using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sockeye.Conformance.Cases;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Running;

/// <summary>
/// Server mode: for every case start the echo client under test with the case's URL, accept its connection and play
/// the case as the server (unmasked frames, client frames must be masked).
/// </summary>
internal sealed class ServerModeHost : ICaseHost, IDisposable
{
    private readonly TcpListener _listener;
    private readonly string _peerCommand;
    private readonly string _peerDeflateCommand;
    private readonly Timeouts _timeouts;
    private readonly DeflateExpectations _deflate;
    private readonly double _timeoutScale;

    /// <param name="peerDeflateCommand">The echo client for cases that negotiate permessage-deflate; {offer} is replaced by the case's offer.</param>
    public ServerModeHost(int port, string peerCommand, string? peerDeflateCommand, Timeouts timeouts, DeflateExpectations deflate, double timeoutScale)
    {
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _peerCommand = peerCommand;
        _peerDeflateCommand = peerDeflateCommand ?? peerCommand;
        _timeouts = timeouts;
        _deflate = deflate;
        _timeoutScale = timeoutScale;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Target => _peerCommand;

    public async Task<CaseOutcome> RunAsync(ConformanceCase testCase)
    {
        var clock = Stopwatch.StartNew();
        var url = $"ws://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{testCase.Id}";
        var command = testCase.Deflate is { } setup
            ? _peerDeflateCommand.Replace("{offer}", ShellQuote(setup.PeerOffer), StringComparison.Ordinal)
            : _peerCommand;
        using var peer = PeerProcess.Start(command.Replace("{url}", url, StringComparison.Ordinal));

        var socket = await AcceptAsync(peer);
        if (socket is null)
        {
            var why = peer.ExitCode is { } code
                ? $"peer exited with code {code} without connecting"
                : $"peer did not connect within {_timeouts.Connect.TotalSeconds:0} s";
            return new CaseOutcome(testCase.Id, testCase.Description, Verdict.Failed(why), clock.ElapsedMilliseconds, peer.OutputTail()) { PeerExitCode = peer.ExitCode };
        }

        var outcome = await CaseExecution.RunAsync(
            testCase,
            socket,
            Role.Server,
            (stream, input, ct) => Handshake.ServerAsync(stream, input, $"/{testCase.Id}", testCase.Deflate?.Answer, ct),
            _timeouts,
            _deflate,
            testCase.Timeout * _timeoutScale);

        // The connection is closed by now; an echo client must notice and exit on its own.
        var exited = await peer.ExitOrKillAsync(_timeouts.PeerExit);
        var verdict = exited
            ? outcome.Verdict
            : Verdict.Combine(outcome.Verdict, Verdict.Failed($"peer did not exit within {_timeouts.PeerExit.TotalSeconds:0} s after the connection closed; killed"));
        return outcome with
        {
            Verdict = verdict,
            DurationMs = clock.ElapsedMilliseconds,
            PeerExitCode = exited ? peer.ExitCode : null,
            Transcript = [.. outcome.Transcript, .. peer.OutputTail()],
        };
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>One shell word: single quotes for sh, double quotes for cmd.exe.</summary>
    private static string ShellQuote(string text) => OperatingSystem.IsWindows()
        ? $"\"{text.Replace("\"", "\\\"", StringComparison.Ordinal)}\""
        : $"'{text.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    /// <summary>The peer's connection, or null if it exited or timed out first.</summary>
    private async Task<Socket?> AcceptAsync(PeerProcess peer)
    {
        using var cts = new CancellationTokenSource(_timeouts.Connect);
        var accept = _listener.AcceptSocketAsync(cts.Token).AsTask();
        var exit = peer.WaitForExitAsync(cts.Token);
        await Task.WhenAny(accept, exit);
        if (accept.IsCompletedSuccessfully)
        {
            return accept.Result;
        }

        await cts.CancelAsync();
        try
        {
            // A connection may have raced with the cancellation; close it so it does not leak into the next case.
            (await accept).Dispose();
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            // Expected: no connection came.
        }

        return null;
    }
}
