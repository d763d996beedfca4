using Microsoft.Extensions.Logging;

namespace Sockeye.Topics;

/// <summary>Settings of a <see cref="TopicHub"/>.</summary>
public sealed class TopicHubOptions
{
    /// <summary>Where streams live; null for a new <see cref="InMemoryBackplane"/>.</summary>
    public ITopicBackplane? Backplane { get; set; }

    /// <summary>Settings of every topic that <see cref="TopicOptionsFor"/> does not override.</summary>
    public TopicOptions Topics { get; set; } = TopicOptions.Default;

    /// <summary>Optional per-topic settings (return null for <see cref="Topics"/>). Called once per topic activation.</summary>
    public Func<string, TopicOptions?>? TopicOptionsFor { get; set; }

    /// <summary>Authorizes subscriptions (null: everyone may subscribe to everything).</summary>
    public SubscribeHook? AuthorizeSubscribe { get; set; }

    /// <summary>Authorizes, validates or transforms what connections publish (null: everything is published as sent).</summary>
    public PublishHook? AuthorizePublish { get; set; }

    /// <summary>Most topics one connection may subscribe to at once (default 256).</summary>
    public int MaxSubscriptionsPerConnection { get; set; } = 256;

    /// <summary>
    /// Most publishes of one connection (a plain client's messages, <c>sockeye.v1</c> <c>pub</c> requests) sent to the
    /// backplane before the first of them is answered (default 32, 1 to 1024). More in flight let a distributed
    /// backplane batch them (one round trip for many); order and answers are kept (docs/topics.md "Publishing").
    /// Only used with a backplane whose <see cref="ITopicBackplane.PreservesPublishOrder"/> is true; 1 awaits each.
    /// </summary>
    public int MaxPublishesInFlight { get; set; } = 32;

    /// <summary>
    /// The topic a plain (non-<c>sockeye.v1</c>) client is subscribed and publishes to; null for its request path.
    /// Return null from the function to refuse the plain client (closed with 1008).
    /// </summary>
    public Func<WebSocketConnection, string?>? PlainClientTopic { get; set; }

    /// <summary>Where drops, slow-subscriber closes and refusals are logged.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// This node's name in presence connection ids (<c>node.connection</c>); null for a random one. Nodes sharing a
    /// backplane must have distinct names.
    /// </summary>
    public string? NodeName { get; set; }
}
