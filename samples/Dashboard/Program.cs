// A live dashboard on Sockeye topics: a hosted background service publishes this process's metrics to the topic
// "metrics" every second; the topic keeps ten minutes of history, so a page that reconnects (or is reloaded)
// resumes from its last point with no gap and no duplicate.
//
//   dotnet run --project samples/Dashboard -- --port 8080 [--interval-ms 1000]
//   then open http://127.0.0.1:8080/
using Dashboard;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sockeye.Topics;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
var interval = TimeSpan.FromMilliseconds(builder.Configuration.GetValue("interval-ms", 1000));
int historySize = (int)Math.Ceiling(TimeSpan.FromMinutes(10) / interval);

builder.Services.AddSingleton(services => new TopicHub(new TopicHubOptions
{
    TopicOptionsFor = topic => topic == MetricsPublisher.Topic ? new TopicOptions { HistorySize = historySize } : null,
    // Browsers only read: what they publish is refused (the hub's own PublishAsync is not subject to hooks).
    AuthorizePublish = (_, _, _, _) => ValueTask.FromResult(PublishDecision.Refuse("the dashboard is read-only")),
    Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Dashboard.Topics"),
}));
builder.Services.AddHostedService(services => new DashboardServer(
    services.GetRequiredService<TopicHub>(),
    builder.Configuration.GetValue("port", 8080),
    services.GetRequiredService<ILoggerFactory>()));
builder.Services.AddHostedService(services => new MetricsPublisher(services.GetRequiredService<TopicHub>(), interval));

await builder.Build().RunAsync();
