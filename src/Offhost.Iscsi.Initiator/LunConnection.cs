using Offhost.Core.Errors;
using Offhost.Iscsi.Login;
using Offhost.Scsi.Commands;
using Offhost.Scsi.Sense;

namespace Offhost.Iscsi.Initiator;

/// <summary>
/// A logical unit reached through a session that is re-established when the connection drops. Commands marked
/// retryable (reads and other commands without side effects) are re-sent on a new session up to
/// <see cref="IscsiInitiatorOptions.MaxReconnectAttempts"/> times; others fail with a message saying so. UNIT
/// ATTENTION, BUSY and TASK SET FULL are retried a few times, since they say nothing about the command itself.
/// Thread-safe.
/// </summary>
internal sealed class LunConnection : IAsyncDisposable
{
    const int MaxConditionRetries = 8;

    readonly IscsiUri _uri;
    readonly ChapCredentials? _chap;
    readonly IscsiInitiatorOptions _options;
    readonly ulong _isid;
    readonly SemaphoreSlim _reconnect = new(1, 1);
    IscsiSession _session;
    bool _disposed;

    LunConnection(IscsiUri uri, ChapCredentials? chap, IscsiInitiatorOptions options, IscsiSession session, ulong isid)
    {
        _isid = isid;
        _uri = uri;
        _chap = chap;
        _options = options;
        _session = session;
        Lun = Offhost.Scsi.Commands.Lun.Encode(uri.Lun!.Value);
    }

    public ulong Lun { get; }
    public IscsiUri Uri => _uri;
    public IscsiSession Session => _session;
    public string Name => $"{_uri.TargetName} LUN {_uri.Lun}";

    public static async Task<LunConnection> OpenAsync(IscsiUri uri, IscsiInitiatorOptions options, CancellationToken cancellationToken)
    {
        if (uri.TargetName is null || uri.Lun is null)
            throw new UserFacingException($"{uri} names no target and LUN; expected iscsi://HOST[:PORT]/IQN/LUN", 2);
        var chap = uri.ResolveCredentials();
        options = uri.Digests ? options with { HeaderDigest = true, DataDigest = true, RequireDigests = true } : options;
        ulong isid = IscsiSession.NewIsid();
        var session = await IscsiSession.LoginAsync(uri.Host, uri.Port, uri.TargetName, chap, options, cancellationToken, isid);
        var connection = new LunConnection(uri, chap, options, session, isid);
        try
        {
            await connection.CheckLunAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Fails with a clear message when the LUN does not exist; clears start-up unit attentions.</summary>
    async Task CheckLunAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var result = await _session.ExecuteAsync(new ScsiCommand
        {
            Cdb = ReportLuns.Cdb((uint)buffer.Length), Lun = 0, Name = "REPORT LUNS", DataIn = buffer,
        }, cancellationToken);
        if (result.IsGood)
        {
            var luns = ReportLuns.Parse(buffer.AsSpan(0, result.DataInBytes)).Select(Offhost.Scsi.Commands.Lun.Decode).ToList();
            if (!luns.Contains(_uri.Lun!.Value))
                throw new UserFacingException($"{_uri}: target {_uri.TargetName} has no LUN {_uri.Lun} (it reports LUNs {string.Join(", ", luns)})", 2);
        }
        for (int attempt = 0; ; attempt++)
        {
            var tur = await _session.ExecuteAsync(new ScsiCommand { Cdb = TestUnitReady.Cdb(), Lun = Lun, Name = "TEST UNIT READY" }, cancellationToken);
            if (tur.IsGood) return;
            if (tur.Sense?.Key == SenseKey.UnitAttention && attempt < MaxConditionRetries) continue;
            if (tur.Sense is { Asc: 0x25 }) throw new UserFacingException($"{_uri}: LUN {_uri.Lun} is not supported by the target", 2);
            if (tur.Sense?.Key == SenseKey.NotReady) return;       // e.g. a tape without medium: commands will say so
            tur.ThrowIfNotGood($"{Name}: TEST UNIT READY");
        }
    }

    /// <summary>Runs a command; returns its result (CHECK CONDITION included) after transparent retries.</summary>
    public async Task<ScsiResult> ExecuteAsync(Func<ScsiCommand> command, bool retryable, CancellationToken cancellationToken)
    {
        int reconnects = 0, conditions = 0;
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var session = _session;
            var cmd = command();
            ScsiResult result;
            try
            {
                if (session.IsFailed) throw new IscsiConnectionException($"iSCSI {session.Portal}: connection lost");
                result = await session.ExecuteAsync(cmd, cancellationToken);
            }
            catch (IscsiConnectionException e)
            {
                if (!retryable)
                    throw new IscsiConnectionException($"{Name}: {cmd.Name} failed because the connection was lost ({e.Message}); it changes the medium, so it was not retried and may or may not have taken effect", e);
                if (++reconnects > _options.MaxReconnectAttempts)
                    throw new IscsiConnectionException($"{Name}: {cmd.Name} failed after {_options.MaxReconnectAttempts} reconnects: {e.Message}", e);
                try
                {
                    await ReconnectAsync(session, reconnects, cancellationToken);
                }
                catch (IOException re) when (re is IscsiConnectionException or Offhost.Iscsi.Login.IscsiLoginException)
                {
                    throw new IscsiConnectionException($"{Name}: {cmd.Name} failed: the connection was lost ({e.Message}) and logging in again failed: {re.Message}", re);
                }
                continue;
            }
            if (result.Status == ScsiStatus.CheckCondition && result.Sense?.Key == SenseKey.UnitAttention && ++conditions <= MaxConditionRetries)
                continue;
            if (result.Status is ScsiStatus.Busy or ScsiStatus.TaskSetFull && ++conditions <= MaxConditionRetries)
            {
                await Task.Delay(50 * conditions, cancellationToken);
                continue;
            }
            return result;
        }
    }

    async Task ReconnectAsync(IscsiSession failed, int attempt, CancellationToken cancellationToken)
    {
        await _reconnect.WaitAsync(cancellationToken);
        try
        {
            if (!ReferenceEquals(_session, failed) && !_session.IsFailed) return;   // someone else reconnected
            await _session.DisposeAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            // Same ISID with TSIH 0: the target reinstates the session, cleaning up the old one (RFC 7143 §6.3.5).
            _session = await IscsiSession.LoginAsync(_uri.Host, _uri.Port, _uri.TargetName, _chap, _options, cancellationToken, _isid);
        }
        finally
        {
            _reconnect.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _session.DisposeAsync();
    }
}
