using System.Diagnostics;
using System.Net.Sockets;
using Sockeye.Conformance.Cases;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Running;

/// <summary>Client mode: a fresh connection to the echo server under test for every case; we send masked frames.</summary>
internal sealed class ClientModeHost(Uri url, Timeouts timeouts, DeflateExpectations deflate, double timeoutScale) : ICaseHost
{
    public string Target => url.ToString();

    public async Task<CaseOutcome> RunAsync(ConformanceCase testCase)
    {
        var clock = Stopwatch.StartNew();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var connectTimeout = new CancellationTokenSource(timeouts.Connect);
            await socket.ConnectAsync(url.DnsSafeHost, url.Port, connectTimeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            return new CaseOutcome(testCase.Id, testCase.Description, Verdict.Failed($"cannot connect to {url}: {ex.Message}"), clock.ElapsedMilliseconds, []);
        }

        return await CaseExecution.RunAsync(
            testCase,
            socket,
            Role.Client,
            (stream, input, ct) => Handshake.ClientAsync(stream, input, url, testCase.Deflate?.Offers, ct),
            timeouts,
            deflate,
            testCase.Timeout * timeoutScale);
    }
}
