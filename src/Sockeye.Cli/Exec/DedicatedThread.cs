namespace Sockeye.Cli.Exec;

/// <summary>
/// Runs blocking I/O loops on their own threads. .NET has no asynchronous I/O for anonymous pipes on Unix (a
/// "ReadAsync" on a process's stdout blocks a thread-pool thread), so each pipe gets a small dedicated thread rather
/// than starving the pool that runs the WebSocket connections. Those threads block on sends too, which is exactly
/// the backpressure we want: a slow browser stops the thread that reads the process's stdout.
/// </summary>
internal static class DedicatedThread
{
    private const int StackSize = 256 * 1024;

    public static Task Run(string name, Action body)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }, StackSize)
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>Blocks until <paramref name="task"/> completes (dedicated threads only).</summary>
    public static void Wait(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        task.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Blocks until <paramref name="task"/> completes and returns its result (dedicated threads only).</summary>
    public static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
