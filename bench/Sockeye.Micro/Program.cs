using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Sockeye.Micro -- --filter '*'            (full runs)
// dotnet run -c Release --project bench/Sockeye.Micro -- --filter '*' --job short (quick look)
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
