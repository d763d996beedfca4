using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sockeye.Server;

namespace Sockeye.Hosting;

/// <summary>Adds a Sockeye WebSocket server to a .NET generic host.</summary>
/// <example>
/// <code>
/// var builder = Host.CreateApplicationBuilder(args);
/// builder.Services.AddSockeye(builder.Configuration.GetSection("Sockeye"), b => b.Map("/echo", async ws =>
/// {
///     while (await ws.ReceiveAsync() is { IsClose: false } message)
///         await ws.SendAsync(message.Type, message.Payload);
/// }));
/// await builder.Build().RunAsync(); // Ctrl-C / SIGTERM: connections get 1001, then the process exits
/// </code>
/// </example>
public static class SockeyeServiceCollectionExtensions
{
    /// <summary>
    /// Adds the server with settings from <paramref name="configuration"/> (see <see cref="SockeyeOptions"/>), checked
    /// when the host starts: an invalid setting fails the start with an <see cref="OptionsValidationException"/> naming
    /// it, before anything listens. The server is also registered as a <see cref="WebSocketServer"/> singleton (its
    /// <see cref="WebSocketServer.Port"/> is the bound port once the host has started).
    /// </summary>
    public static IServiceCollection AddSockeye(this IServiceCollection services, IConfiguration configuration, Action<SockeyeBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return AddSockeyeCore(services, options => options.Bind(configuration), configure);
    }

    /// <summary>Adds the server with settings set in code (validated at start like the configuration overload).</summary>
    public static IServiceCollection AddSockeye(this IServiceCollection services, Action<SockeyeOptions> options, Action<SockeyeBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(options);
        return AddSockeyeCore(services, builder => builder.Configure(options), configure);
    }

    private static IServiceCollection AddSockeyeCore(IServiceCollection services, Action<OptionsBuilder<SockeyeOptions>> bind, Action<SockeyeBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(SockeyeBuilder)))
        {
            throw new InvalidOperationException("AddSockeye was already called: one hosted server per host.");
        }

        var sockeye = new SockeyeBuilder();
        configure(sockeye);
        services.AddSingleton(sockeye);

        OptionsBuilder<SockeyeOptions> options = services.AddOptions<SockeyeOptions>();
        bind(options);
        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<SockeyeOptions>, SockeyeOptionsValidator>();

        services.AddSingleton(CreateServer);
        services.AddHostedService<SockeyeHostedService>();
        return services;
    }

    private static WebSocketServer CreateServer(IServiceProvider services)
    {
        SockeyeOptions settings = services.GetRequiredService<IOptions<SockeyeOptions>>().Value; // throws if invalid
        SockeyeBuilder sockeye = services.GetRequiredService<SockeyeBuilder>();

        var options = new WebSocketServerOptions
        {
            Host = settings.Host,
            Port = settings.Port,
            HandshakeTimeout = settings.HandshakeTimeout,
            ShutdownTimeout = settings.ShutdownTimeout,
            LoggerFactory = services.GetService<ILoggerFactory>(),
        };
        if (settings.MaxConnections is int maxConnections)
        {
            options.MaxConnections = maxConnections;
        }

        options.WebSocket.MaxMessageSize = settings.MaxMessageSize;
        options.WebSocket.MaxFrameSize = settings.MaxFrameSize;
        options.WebSocket.MaxSendBuffer = settings.MaxSendBuffer;
        options.WebSocket.PingInterval = settings.PingInterval;
        options.WebSocket.PingTimeout = settings.PingTimeout;
        options.WebSocket.IdleTimeout = settings.IdleTimeout;
        options.WebSocket.SendTimeout = settings.SendTimeout;
        options.WebSocket.CloseTimeout = settings.CloseTimeout;
        options.WebSocket.Deflate = settings.EnableCompression ? settings.Compression.Clone() : null;
        foreach (string origin in settings.AllowedOrigins)
        {
            options.AllowedOrigins.Add(origin);
        }

        foreach (string host in settings.AllowedHosts)
        {
            options.AllowedHosts.Add(host);
        }

        foreach (Action<IServiceProvider, WebSocketServerOptions> step in sockeye.OptionSteps)
        {
            step(services, options);
        }

        var server = new WebSocketServer(options);
        foreach (Action<IServiceProvider, WebSocketServer> step in sockeye.ServerSteps)
        {
            step(services, server);
        }

        return server;
    }
}
