using System.Collections.Concurrent;

namespace Sockeye.Topics.Backplanes;

// Presence across nodes, the store-independent part: this node's members are remembered, so that they can be written
// to the store again after an outage (or when their entries age), and the leaves the store missed are sent later.
public abstract partial class ScaleOutBackplane
{
    private readonly ConcurrentDictionary<(string Topic, string Connection), LocalMember> _members = new();
    private readonly ConcurrentDictionary<(string Topic, string Connection), PresenceMember> _pendingLeaves = new();

    /// <summary>A member of this node, and when it was last written to the store.</summary>
    private sealed record LocalMember(PresenceMember Info, long WrittenMs);

    /// <summary>
    /// Adds the member in the store (<see cref="AddMemberAsync"/>). While the store is unreachable, the join is delivered
    /// locally now and written after the reconnect (<see cref="RewritePresenceAsync"/>).
    /// </summary>
    public async ValueTask JoinAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        _members[(topic, member.Connection)] = new LocalMember(member, Environment.TickCount64);
        _pendingLeaves.TryRemove((topic, member.Connection), out _);
        if (IsConnected)
        {
            try
            {
                await AddMemberAsync(topic, member, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        Sink.OnPresence(topic, member, joined: true); // locally now; in the store after the reconnect
    }

    /// <summary>
    /// Removes the member from the store (<see cref="RemoveMemberAsync"/>). While the store is unreachable, the leave is
    /// delivered locally now and sent after the reconnect.
    /// </summary>
    public async ValueTask LeaveAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        _members.TryRemove((topic, member.Connection), out _);
        if (IsConnected)
        {
            try
            {
                await RemoveMemberAsync(topic, member, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        _pendingLeaves[(topic, member.Connection)] = member;
        Sink.OnPresence(topic, member, joined: false);
    }

    /// <summary>The topic's members on every node (<see cref="ReadPresenceAsync"/>); while the store is unreachable, this node's.</summary>
    public async ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string topic, CancellationToken cancellationToken)
    {
        if (IsConnected)
        {
            try
            {
                return await ReadPresenceAsync(topic, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        // Unreachable: the members this node knows, its own.
        return [.. _members.Where(pair => string.Equals(pair.Key.Topic, topic, StringComparison.Ordinal)).Select(pair => pair.Value.Info)];
    }

    /// <summary>Writes a member of this node to the store, announcing its join to every node when it is new there.</summary>
    protected abstract Task AddMemberAsync(string topic, PresenceMember member, CancellationToken cancellationToken);

    /// <summary>Removes a member of this node from the store, announcing its leave to every node if it was there.</summary>
    protected abstract Task RemoveMemberAsync(string topic, PresenceMember member, CancellationToken cancellationToken);

    /// <summary>The topic's members on live nodes, as the store has them (members of dead nodes may be swept meanwhile).</summary>
    protected abstract Task<IReadOnlyList<PresenceMember>> ReadPresenceAsync(string topic, CancellationToken cancellationToken);

    /// <summary>At shutdown, after this node's members left: removes this node's liveness from the store.</summary>
    protected abstract Task RemoveNodeAsync();

    /// <summary>
    /// Writes this node's members to the store again (<see cref="AddMemberAsync"/>): every one when <paramref name="all"/>
    /// (this node's liveness had lapsed, or after a reconnect), else those last written more than
    /// <paramref name="olderThan"/> ago (null: none); then sends the leaves the store missed.
    /// </summary>
    protected async Task RewritePresenceAsync(bool all, TimeSpan? olderThan)
    {
        long before = olderThan is { } age ? Environment.TickCount64 - (long)age.TotalMilliseconds : long.MinValue;
        foreach (KeyValuePair<(string Topic, string Connection), LocalMember> pair in _members)
        {
            if (all || pair.Value.WrittenMs < before)
            {
                await AddMemberAsync(pair.Key.Topic, pair.Value.Info, CancellationToken.None).ConfigureAwait(false);
                _members.TryUpdate(pair.Key, pair.Value with { WrittenMs = Environment.TickCount64 }, pair.Value);
            }
        }

        foreach (KeyValuePair<(string Topic, string Connection), PresenceMember> pair in _pendingLeaves)
        {
            await RemoveMemberAsync(pair.Key.Topic, pair.Value, CancellationToken.None).ConfigureAwait(false);
            _pendingLeaves.TryRemove(pair);
        }
    }

    // A clean stop leaves presence at once instead of after the timeout.
    private async Task LeaveAllAsync()
    {
        foreach (KeyValuePair<(string Topic, string Connection), LocalMember> member in _members)
        {
            await RemoveMemberAsync(member.Key.Topic, member.Value.Info, CancellationToken.None).ConfigureAwait(false);
        }

        await RemoveNodeAsync().ConfigureAwait(false);
    }
}
