global using Sockeye.ScaleOut.Tests;
global using Xunit;
