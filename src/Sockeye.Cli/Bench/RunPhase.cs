namespace Sockeye.Cli.Bench;

/// <summary>Run-wide phase shared by all connections: warm-up, measuring, then stopping.</summary>
internal sealed class RunPhase
{
    private const int Warmup = 0;
    private const int Measure = 1;
    private const int Stop = 2;

    private volatile int _value = Warmup;

    public bool Measuring => _value == Measure;

    public bool Stopping => _value == Stop;

    public void StartMeasuring() => _value = Measure;

    public void StartStopping() => _value = Stop;
}
