namespace Sockeye.Cli;

/// <summary>
/// Process-wide socket engine settings. Inline completions run socket continuations on the epoll thread instead of
/// hopping to the thread pool: no context switch per receive, which on a busy core is most of the per-message cost
/// (profiled: ~25% of server CPU in the scheduler at 750k msgs/s). Safe only when the code that runs on completion
/// never blocks and never runs long, which holds for Sockeye's engine (a connection gives up the thread after a
/// bounded amount of work per read, e.g. inflating a small frame into a large message; see
/// <c>WebSocketConnection.WorkBudget</c>), the echo endpoint, static files and the load generator.
/// </summary>
internal static class SocketEngineTuning
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns inline completions on. Only effective before the process's first asynchronous socket operation; an
    /// explicit value in the environment wins.
    /// </summary>
    public static void UseInlineCompletions()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
