using System.Text;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using Sockeye.Topics;

namespace Sockeye.Nats;

// Presence across nodes: a KV bucket with one key per member, <topic>.<connection> → owning node and info; a node's
// liveness is its key in a second bucket whose age limit is the presence timeout, refreshed by its heartbeat; any node
// sweeps the members of dead nodes from the topics it serves, with a delete conditional on the member's revision, so
// each leave is announced once however many nodes sweep.
public sealed partial class NatsBackplane
{
    private static readonly NatsUtf8PrimitivesSerializer<string> StringSerializer = NatsUtf8PrimitivesSerializer<string>.Default;
    private INatsKVStore? _presence;
    private INatsKVStore? _nodes;

    /// <inheritdoc/>
    protected override Task<IReadOnlyList<PresenceMember>> ReadPresenceAsync(string topic, CancellationToken cancellationToken) => SweepAsync(topic, cancellationToken);

    /// <inheritdoc/>
    protected override async Task RemoveNodeAsync()
    {
        INatsKVStore nodes = NodesStore;
        await nodes.PurgeAsync(NatsSubjects.Encode(NodeId)).ConfigureAwait(false);
    }

    private INatsKVStore PresenceStore => _presence ?? throw new NatsException("the presence bucket is not ready");

    private INatsKVStore NodesStore => _nodes ?? throw new NatsException("the nodes bucket is not ready");

    private static string MemberKey(TopicSubjects subjects, string connection) => subjects.Token + "." + NatsSubjects.Encode(connection);

    // The value: <node>\n then - (no info) or +<info>.
    private string MemberValue(string? info) => NodeId + "\n" + (info is null ? "-" : "+" + info);

    private static string? DecodeInfo(ReadOnlySpan<char> encoded) => encoded.Length > 0 && encoded[0] == '+' ? encoded[1..].ToString() : null;

    /// <summary>Adds the member (announced when it is new; a rejoin of a known one only refreshes its key).</summary>
    protected override async Task AddMemberAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        INatsKVStore presence = PresenceStore;
        TopicSubjects subjects = SubjectsOf(topic);
        string key = MemberKey(subjects, member.Connection);
        NatsResult<ulong> created = await presence.TryCreateAsync(key, MemberValue(member.Info), StringSerializer, cancellationToken).ConfigureAwait(false);
        if (created.Success)
        {
            await AnnounceAsync(subjects, member.Connection, member.Info, joined: true, cancellationToken).ConfigureAwait(false);
        }
        else if (created.Error is NatsKVCreateException or NatsKVWrongLastRevisionException)
        {
            await presence.PutAsync(key, MemberValue(member.Info), StringSerializer, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            throw created.Error;
        }
    }

    /// <summary>Removes the member if it is there, announcing the leave once: the delete is conditional on the revision read.</summary>
    protected override async Task RemoveMemberAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        (string connection, string? info) = (member.Connection, member.Info);
        INatsKVStore presence = PresenceStore;
        TopicSubjects subjects = SubjectsOf(topic);
        string key = MemberKey(subjects, connection);
        NatsResult<NatsKVEntry<string>> entry = await presence.TryGetEntryAsync(key, serializer: StringSerializer, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!entry.Success)
        {
            return; // already gone (swept, or NATS lost it)
        }

        NatsResult deleted = await presence.TryDeleteAsync(key, new NatsKVDeleteOpts { Revision = entry.Value.Revision }, cancellationToken).ConfigureAwait(false);
        if (deleted.Success)
        {
            await AnnounceAsync(subjects, connection, info, joined: false, cancellationToken).ConfigureAwait(false);
        }
    }

    // A presence event on the topic's delivery subject (core NATS, not stored): header j|l, the member, its info.
    private ValueTask AnnounceAsync(TopicSubjects subjects, string connection, string? info, bool joined, CancellationToken cancellationToken)
    {
        var headers = new NatsHeaders
        {
            [NatsWire.Presence] = joined ? "j" : "l",
            [NatsWire.Member] = Convert.ToBase64String(Encoding.UTF8.GetBytes(connection)),
        };
        return _nats.PublishAsync(subjects.Delivery, info is null ? "-" : "+" + info, headers, serializer: StringSerializer, cancellationToken: cancellationToken);
    }

    private void OnPresenceEvent(NatsTopic state, NatsHeaders headers, ReadOnlySpan<byte> payload, bool joined)
    {
        string? member = NatsWire.Header(headers, NatsWire.Member);
        if (member is null)
        {
            throw new FormatException("a presence event without its member");
        }

        state.HasPresence = true;
        string connection = Encoding.UTF8.GetString(Convert.FromBase64String(member));
        lock (state.Lock)
        {
            if (!state.Removed)
            {
                Sink.OnPresence(state.Name, new PresenceMember(connection, DecodeInfo(Encoding.UTF8.GetString(payload))), joined);
            }
        }
    }

    /// <summary>
    /// Removes (and announces the leave of) the topic's members whose node is dead; returns the others. The key's
    /// value names the member's node, the connection comes from the value too (keys are encoded).
    /// </summary>
    private async Task<IReadOnlyList<PresenceMember>> SweepAsync(string topic, CancellationToken cancellationToken)
    {
        INatsKVStore presence = PresenceStore;
        INatsKVStore nodes = NodesStore;
        TopicSubjects subjects = SubjectsOf(topic);
        var keys = new List<string>();
        await foreach (string key in presence.GetKeysAsync([subjects.Token + ".*"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            keys.Add(key);
        }

        var alive = new List<PresenceMember>(keys.Count);
        var live = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            NatsResult<NatsKVEntry<string>> entry = await presence.TryGetEntryAsync(key, serializer: StringSerializer, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!entry.Success || entry.Value.Value is not { } value)
            {
                continue;
            }

            int newline = value.IndexOf('\n', StringComparison.Ordinal);
            int dot = key.IndexOf('.', StringComparison.Ordinal);
            if (newline <= 0 || dot <= 0)
            {
                continue;
            }

            string node = value[..newline];
            if (!live.TryGetValue(node, out bool isLive))
            {
                isLive = (await nodes.TryGetEntryAsync(NatsSubjects.Encode(node), serializer: StringSerializer, cancellationToken: cancellationToken).ConfigureAwait(false)).Success;
                live[node] = isLive;
            }

            string connection = NatsSubjects.Decode(key[(dot + 1)..]);
            string? info = DecodeInfo(value.AsSpan(newline + 1));
            if (isLive)
            {
                alive.Add(new PresenceMember(connection, info));
            }
            else if ((await presence.TryDeleteAsync(key, new NatsKVDeleteOpts { Revision = entry.Value.Revision }, cancellationToken).ConfigureAwait(false)).Success)
            {
                await AnnounceAsync(subjects, connection, info, joined: false, cancellationToken).ConfigureAwait(false);
            }
        }

        return alive;
    }

    /// <summary>
    /// Extends this node's liveness. When it had lapsed (a long pause, a NATS that lost its data) or after a
    /// reconnect, this node's members are added again; members whose keys near the topic expiry are written again;
    /// the leaves that could not be sent are sent.
    /// </summary>
    private async Task HeartbeatAsync(bool rejoin)
    {
        INatsKVStore nodes = NodesStore;
        string key = NatsSubjects.Encode(NodeId);
        bool lapsed = !(await nodes.TryGetEntryAsync(key, serializer: StringSerializer).ConfigureAwait(false)).Success;
        await nodes.PutAsync(key, "1", StringSerializer).ConfigureAwait(false);
        await RewritePresenceAsync(all: lapsed || rejoin, olderThan: _options.TopicExpiry / 2).ConfigureAwait(false);
    }

    /// <summary>Every PresenceHeartbeat while NATS is away: the recovery, if it was interrupted.</summary>
    protected override async Task OnHeartbeatWhileDownAsync()
    {
        if (_nats.ConnectionState == NatsConnectionState.Open)
        {
            await RecoverAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Every PresenceHeartbeat: liveness, sweep of dead nodes' members, syncs to retry.</summary>
    protected override async Task OnHeartbeatAsync()
    {
        await HeartbeatAsync(rejoin: false).ConfigureAwait(false);
        foreach (NatsTopic state in Topics.Values)
        {
            if (state.HasPresence && !state.Removed)
            {
                await SweepAsync(state.Name, Stopping).ConfigureAwait(false);
            }

            lock (state.Lock)
            {
                if (state.Delivery.ResyncRequested && !state.Delivery.IsSyncing)
                {
                    StartSync(state);
                }
            }
        }
    }
}
