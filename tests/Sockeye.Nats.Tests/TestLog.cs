using Microsoft.Extensions.Logging;

namespace Sockeye.Nats.Tests;

/// <summary>The backplane's log lines, kept for assertions (outages logged once) and for a failing test's message.</summary>
internal sealed class TestLog : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add($"{logLevel}: {formatter(state, exception)}");
        }

        if (Environment.GetEnvironmentVariable("NATS_TEST_LOG") is { Length: > 0 } file)
        {
            File.AppendAllText(file, $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}: {formatter(state, exception)} {exception}\n");
        }
    }
}
