using System.Collections.Concurrent;

namespace Sockeye.Topics.Backplanes;

/// <summary>
/// A topic a node has local subscribers for, as a scale-out backplane keeps it: its <see cref="OrderedDelivery"/>, and
/// the count of local subscriptions that <see cref="SubscribeAsync"/> and <see cref="UnsubscribeAsync"/> keep. A
/// backplane derives its own per-topic state (its subscription to the store) from it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never used holds nothing to dispose.")]
public abstract class BackplaneTopic
{
    private int _interest;

    /// <summary>Creates the state of <paramref name="delivery"/>'s topic.</summary>
    protected BackplaneTopic(OrderedDelivery delivery) => Delivery = delivery ?? throw new ArgumentNullException(nameof(delivery));

    /// <summary>The topic.</summary>
    public string Name => Delivery.Topic;

    /// <summary>Where the topic's delivery stands.</summary>
    public OrderedDelivery Delivery { get; }

    /// <summary>
    /// Serializes the topic's subscribe and unsubscribe against the store (held while the activation or deactivation
    /// runs); a backplane's recovery takes it too before it subscribes the topic again.
    /// </summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>
    /// Counts a local subscription of <paramref name="topic"/>; the first one creates its state with
    /// <paramref name="create"/> and runs <paramref name="activate"/> (listen, then learn the position) before returning.
    /// </summary>
    public static async ValueTask SubscribeAsync<TTopic>(ConcurrentDictionary<string, TTopic> topics, string topic, Func<string, TTopic> create, Func<TTopic, Task> activate, CancellationToken cancellationToken)
        where TTopic : BackplaneTopic
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(activate);
        while (true)
        {
            TTopic state = topics.GetOrAdd(topic, create);
            await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (state.Delivery.IsClosed)
                {
                    continue; // removed meanwhile by the last unsubscribe: a new state
                }

                if (++state._interest == 1)
                {
                    await activate(state).ConfigureAwait(false);
                }

                return;
            }
            finally
            {
                state.Gate.Release();
            }
        }
    }

    /// <summary>
    /// Counts the end of a local subscription of <paramref name="topic"/>; the last one closes its delivery, removes
    /// it from <paramref name="topics"/> and runs <paramref name="deactivate"/> (stop listening).
    /// </summary>
    public static async ValueTask UnsubscribeAsync<TTopic>(ConcurrentDictionary<string, TTopic> topics, string topic, Func<TTopic, Task> deactivate, CancellationToken cancellationToken)
        where TTopic : BackplaneTopic
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(deactivate);
        if (!topics.TryGetValue(topic, out TTopic? state))
        {
            return;
        }

        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (state.Delivery.IsClosed || --state._interest > 0)
            {
                return;
            }

            lock (state.Delivery.Lock)
            {
                state.Delivery.Close();
            }

            topics.TryRemove(new KeyValuePair<string, TTopic>(topic, state));
            await deactivate(state).ConfigureAwait(false);
        }
        finally
        {
            state.Gate.Release();
        }
    }
}
