namespace Sockeye.Cli.Bench;

/// <summary>Thread-safe error count that keeps the first message as a sample for the report.</summary>
internal sealed class ErrorTally
{
    private readonly Lock _lock = new();

    public int Count { get; private set; }

    public string? First { get; private set; }

    public void Add(string message)
    {
        lock (_lock)
        {
            Count++;
            First ??= message;
        }
    }

    public void Add(ErrorTally other)
    {
        lock (_lock)
        {
            Count += other.Count;
            First ??= other.First;
        }
    }
}
