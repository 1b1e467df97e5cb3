using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using Offhost.Iscsi.Login;
using Offhost.Iscsi.Pdu;
using Offhost.Iscsi.Text;
using Offhost.Scsi.Commands;
using Offhost.Scsi.Sense;

namespace Offhost.Iscsi.Initiator;

/// <summary>
/// One iSCSI session over one TCP connection (ErrorRecoveryLevel 0). After <see cref="LoginAsync"/> a reader task
/// frames incoming PDUs and completes commands; any number of callers may run <see cref="ExecuteAsync"/>
/// concurrently, bounded by the queue depth and the target's CmdSN window. Writes honour ImmediateData,
/// InitialR2T, FirstBurstLength, MaxBurstLength (via R2T) and the target's MaxRecvDataSegmentLength. Every wait
/// has a timeout; when the connection breaks or a command times out, the whole session fails and every pending
/// command throws <see cref="IscsiConnectionException"/>. Thread-safe.
/// </summary>
public sealed class IscsiSession : IAsyncDisposable
{
    const int SendBufferBytes = 64 * 1024;
    /// <summary>Data-In segments at least this long are received straight into the command's buffer.</summary>
    const int DirectDataInBytes = 16 * 1024;
    /// <summary>Bytes asked of the socket per receive into the framer (headers and small PDUs).</summary>
    const int ReceiveChunkBytes = 16 * 1024;

    readonly Socket _socket;
    readonly PduFramer _framer;
    readonly IscsiInitiatorOptions _options;
    readonly SemaphoreSlim _sendLock = new(1, 1);
    readonly SemaphoreSlim _queue;
    readonly ConcurrentDictionary<uint, PendingCommand> _commands = new();
    readonly ConcurrentDictionary<uint, TaskCompletionSource<(IscsiPdu Header, byte[] Data)>> _requests = new();
    readonly CancellationTokenSource _closing = new();
    readonly byte[] _sendBuffer = new byte[SendBufferBytes + IscsiPdu.BhsLength + 8];
    readonly byte[] _trailer = new byte[PduCodec.MaxTrailerLength];
    readonly byte[] _sendTrailer = new byte[PduCodec.MaxTrailerLength];
    readonly Lock _snLock = new();
    uint _cmdSN;
    uint _expCmdSN;
    uint _maxCmdSN;
    uint _expStatSN;
    TaskCompletionSource _windowChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _nextItt;
    DigestOptions _digests;
    Exception? _failure;
    Task? _reader;
    Task? _keepAlive;
    long _lastReceiveTicks;
    bool _loggedOut;

    IscsiSession(Socket socket, string portal, IscsiInitiatorOptions options)
    {
        _socket = socket;
        Portal = portal;
        _options = options;
        _queue = new SemaphoreSlim(Math.Max(1, options.QueueDepth));
        _framer = new PduFramer(Math.Max(LoginNegotiator.MaxLoginDataBytes, options.Proposal.MaxRecvDataSegmentLengthBytes));
    }

    /// <summary>host:port of the target portal.</summary>
    public string Portal { get; }

    public string? TargetName { get; private set; }

    /// <summary>The parameters agreed at login.</summary>
    public SessionParameters Parameters { get; private set; } = SessionParameters.Defaults;

    public ushort Tsih { get; private set; }

    /// <summary>Set once the connection failed; the session is unusable afterwards.</summary>
    public bool IsFailed => _failure is not null;

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> and logs in (Normal session when
    /// <paramref name="targetName"/> is set, Discovery session otherwise).</summary>
    public static async Task<IscsiSession> LoginAsync(string host, int port, string? targetName, ChapCredentials? chap,
        IscsiInitiatorOptions options, CancellationToken cancellationToken, ulong? isid = null)
    {
        string portal = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(options.ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(host, port, connectTimeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new IscsiConnectionException($"iSCSI portal {portal}: no TCP connection within {options.ConnectTimeout.TotalSeconds:0.#} s");
                }
                catch (SocketException e)
                {
                    throw new IscsiConnectionException($"iSCSI portal {portal}: cannot connect: {e.Message}", e);
                }
            }
            var session = new IscsiSession(socket, portal, options) { TargetName = targetName };
            await session.RunLoginAsync(targetName, chap, isid ?? NewIsid(), cancellationToken);
            return session;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A random ISID (type 10b, RFC 7143 §11.12.5).</summary>
    public static ulong NewIsid()
    {
        Span<byte> r = stackalloc byte[8];
        RandomNumberGenerator.Fill(r);
        return (0x80UL << 40) | (BinaryPrimitives.ReadUInt64BigEndian(r) & 0x00FF_FFFF_FFFFUL);
    }

    async Task RunLoginAsync(string? targetName, ChapCredentials? chap, ulong isid, CancellationToken cancellationToken)
    {
        byte[] mutualChallenge = [];
        byte mutualId = 0;
        if (chap?.IsMutual == true)
        {
            mutualChallenge = RandomNumberGenerator.GetBytes(16);
            mutualId = (byte)RandomNumberGenerator.GetInt32(256);
        }
        uint itt = NextItt();
        var negotiator = new LoginNegotiator(new LoginSettings
        {
            InitiatorName = _options.InitiatorName,
            TargetName = targetName,
            Isid = isid,
            InitiatorTaskTag = itt,
            InitialCmdSN = 1,
            Chap = chap,
            MutualChapChallenge = mutualChallenge,
            MutualChapIdentifier = mutualId,
            Proposal = _options.EffectiveProposal,
            RequireDigests = _options.RequireDigests,
        });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.LoginTimeout);
        try
        {
            IscsiPdu? request = negotiator.Start();
            while (request is not null)
            {
                await SendRawAsync(request, request.Data, timeout.Token);
                var response = await ReceiveOneAsync(timeout.Token);
                request = negotiator.Receive(response);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IscsiConnectionException($"iSCSI portal {Portal}: login to {targetName ?? "discovery session"} did not finish within {_options.LoginTimeout.TotalSeconds:0.#} s");
        }
        Parameters = negotiator.Result;
        Tsih = negotiator.Tsih;
        _cmdSN = 1;
        _expCmdSN = negotiator.ExpCmdSN;
        _maxCmdSN = negotiator.MaxCmdSN;
        _expStatSN = negotiator.ExpStatSN;
        _digests = new DigestOptions(Parameters.HeaderDigest, Parameters.DataDigest);
        _framer.Digests = _digests;
        _framer.MaxDataSegmentLength = Parameters.MaxRecvDataSegmentLengthBytes;
        _lastReceiveTicks = Environment.TickCount64;
        _reader = Task.Run(ReadLoopAsync, CancellationToken.None);
        if (_options.KeepAliveInterval > TimeSpan.Zero) _keepAlive = Task.Run(KeepAliveLoopAsync, CancellationToken.None);
    }

    async Task<IscsiPdu> ReceiveOneAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_framer.TryRead(out var pdu))
                return new IscsiPdu(pdu.Header, pdu.AdditionalHeader.ToArray(), pdu.Data.ToArray());
            var memory = _framer.GetMemory(Math.Max(_framer.MissingBytes(), 4096));
            int n;
            try
            {
                n = await _socket.ReceiveAsync(memory, SocketFlags.None, cancellationToken);
            }
            catch (SocketException e)
            {
                throw new IscsiConnectionException($"iSCSI portal {Portal}: connection failed during login: {e.Message}", e);
            }
            if (n == 0) throw new IscsiConnectionException($"iSCSI portal {Portal}: the target closed the connection during login");
            _framer.Advance(n);
        }
    }

    uint NextItt()
    {
        while (true)
        {
            uint itt = (uint)Interlocked.Increment(ref _nextItt);
            if (itt != IscsiPdu.ReservedTag) return itt;
        }
    }

    // ---------------------------------------------------------------- commands

    /// <summary>Runs one SCSI command and returns its status. CHECK CONDITION is a result, not an exception; connection
    /// loss, timeouts and protocol errors throw <see cref="IscsiConnectionException"/>.</summary>
    public async Task<ScsiResult> ExecuteAsync(ScsiCommand command, CancellationToken cancellationToken)
    {
        if (command.Cdb.Length is 0 or > 16) throw new ArgumentException("CDB must be 1..16 bytes", nameof(command));
        if (command.IsRead && command.IsWrite) throw new ArgumentException("bidirectional commands are not supported", nameof(command));
        ThrowIfFailed();
        await _queue.WaitAsync(cancellationToken);
        var pending = new PendingCommand(NextItt(), command);
        bool releaseHere = true;
        try
        {
            _commands[pending.Itt] = pending;
            await SendCommandAsync(pending, cancellationToken);
            releaseHere = false;                    // from now on completion releases the queue slot
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.CommandTimeout);
            try
            {
                return await pending.Completion.Task.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var e = new IscsiConnectionException($"iSCSI {Portal}: no response to {command.Name} within {_options.CommandTimeout.TotalSeconds:0.#} s; connection dropped");
                Fail(e);
                throw e;
            }
            catch (OperationCanceledException)
            {
                // Keep the caller's buffer safe from late Data-In. If data is streaming into it right now, the only
                // way to stop the socket writing there is to drop the connection.
                var idle = pending.AbandonAsync();
                if (!idle.IsCompleted)
                {
                    Fail(new IscsiConnectionException($"iSCSI {Portal}: {command.Name} was cancelled while its data was arriving; connection dropped"));
                    await idle;
                }
                throw;
            }
        }
        finally
        {
            // Fail() may already have removed the command and released its slot.
            if (releaseHere && _commands.TryRemove(pending.Itt, out _))
                _queue.Release();
        }
    }

    async Task SendCommandAsync(PendingCommand pending, CancellationToken cancellationToken)
    {
        var command = pending.Command;
        var p = Parameters;
        int edtl = command.ExpectedLengthBytes;
        int immediate = 0, unsolicited = 0;
        if (command.IsWrite)
        {
            int firstBurst = Math.Min(p.FirstBurstLengthBytes, edtl);
            immediate = p.ImmediateData ? Math.Min(firstBurst, p.TargetMaxRecvDataSegmentLengthBytes) : 0;
            unsolicited = p.InitialR2T ? immediate : firstBurst;
        }
        var pdu = new IscsiPdu(IscsiOpcode.ScsiCommand)
        {
            LunField = command.Lun,
            InitiatorTaskTag = pending.Itt,
            ExpectedDataTransferLength = (uint)edtl,
        };
        pdu.Flags = (byte)((unsolicited > immediate ? 0 : 0x80) | (command.IsRead ? 0x40 : 0) | (command.IsWrite ? 0x20 : 0) | 1);
        command.Cdb.CopyTo(pdu.Cdb);
        pdu.Data = command.DataOut[..immediate];
        pending.DataOutSent = immediate;

        while (true)
        {
            await WaitForWindowAsync(cancellationToken);
            await _sendLock.WaitAsync(cancellationToken);
            try
            {
                ThrowIfFailed();
                lock (_snLock)
                {
                    if (!SerialNumber.LessOrEqual(_cmdSN, _maxCmdSN)) continue;  // another sender took the slot
                    pdu.CmdSN = _cmdSN++;
                }
                await SendLockedAsync(pdu, pdu.Data);
                if (unsolicited > immediate)
                    await SendDataOutLockedAsync(pending, IscsiPdu.ReservedTag, immediate, unsolicited - immediate);
                return;
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }

    async Task WaitForWindowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_snLock)
            {
                if (SerialNumber.LessOrEqual(_cmdSN, _maxCmdSN)) return;
                changed = _windowChanged.Task;
            }
            ThrowIfFailed();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.CommandTimeout);
            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var e = new IscsiConnectionException($"iSCSI {Portal}: the target kept its command window closed for {_options.CommandTimeout.TotalSeconds:0.#} s; connection dropped");
                Fail(e);
                throw e;
            }
        }
    }

    /// <summary>Sends Data-Out PDUs for [offset, offset+length) of a write; caller holds the send lock.</summary>
    async Task SendDataOutLockedAsync(PendingCommand pending, uint ttt, int offset, int length)
    {
        int chunk = Parameters.TargetMaxRecvDataSegmentLengthBytes;
        uint dataSN = 0;
        int end = offset + length;
        while (offset < end)
        {
            int n = Math.Min(chunk, end - offset);
            var pdu = new IscsiPdu(IscsiOpcode.DataOut)
            {
                LunField = pending.Command.Lun,
                InitiatorTaskTag = pending.Itt,
                TargetTransferTag = ttt,
                DataSN = dataSN++,
                BufferOffset = (uint)offset,
                Data = pending.Command.DataOut.Slice(offset, n),
            };
            pdu.Final = offset + n == end;
            await SendLockedAsync(pdu, pdu.Data);
            offset += n;
        }
    }

    async Task AnswerR2TAsync(PendingCommand pending, uint ttt, int offset, int length)
    {
        try
        {
            await _sendLock.WaitAsync(_closing.Token);
            try
            {
                await SendDataOutLockedAsync(pending, ttt, offset, length);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    /// <summary>Sends one PDU with the current ExpStatSN; caller holds the send lock. A send that fails or times
    /// out part-way leaves the stream unusable, so it fails the session.</summary>
    async Task SendLockedAsync(IscsiPdu pdu, ReadOnlyMemory<byte> data)
    {
        if (pdu.Opcode != IscsiOpcode.LoginRequest)
            pdu.ExpStatSN = Volatile.Read(ref _expStatSN);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
        timeout.CancelAfter(_options.CommandTimeout);
        try
        {
            await SendRawAsync(pdu, data, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            var failure = new IscsiConnectionException($"iSCSI {Portal}: sending {pdu.Opcode} failed: {(e is OperationCanceledException ? "timed out" : e.Message)}", e);
            Fail(failure);
            throw failure;
        }
    }

    async Task SendRawAsync(IscsiPdu pdu, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        pdu.Data = data;
        int header = PduCodec.WriteHeader(pdu, _digests, _sendBuffer);
        if (data.Length <= SendBufferBytes)
        {
            data.Span.CopyTo(_sendBuffer.AsSpan(header));
            int trailer = PduCodec.WriteTrailer(data.Span, _digests, _sendBuffer.AsSpan(header + data.Length));
            await SendAllAsync(_sendBuffer.AsMemory(0, header + data.Length + trailer), cancellationToken);
            return;
        }
        await SendAllAsync(_sendBuffer.AsMemory(0, header), cancellationToken);
        await SendAllAsync(data, cancellationToken);
        int t = PduCodec.WriteTrailer(data.Span, _digests, _sendTrailer);
        if (t > 0) await SendAllAsync(_sendTrailer.AsMemory(0, t), cancellationToken);
    }

    async Task SendAllAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            int n = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
            bytes = bytes[n..];
        }
    }

    // ---------------------------------------------------------------- receiving

    async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                int want = Math.Max(_framer.MissingBytes(), ReceiveChunkBytes);
                var memory = _framer.GetMemory(want);
                int n = await _socket.ReceiveAsync(memory[..Math.Min(memory.Length, want)], SocketFlags.None, _closing.Token);
                if (n == 0) throw new IscsiConnectionException($"iSCSI {Portal}: the target closed the connection");
                _framer.Advance(n);
                Volatile.Write(ref _lastReceiveTicks, Environment.TickCount64);
                while (true)
                {
                    if (_framer.TryReadHeaderOnly(IscsiOpcode.DataIn, DirectDataInBytes, out var header))
                        await ReceiveDataInDirectAsync(header);
                    else if (_framer.TryRead(out var pdu))
                        Dispatch(pdu);
                    else
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            Fail(new IscsiConnectionException($"iSCSI {Portal}: session closed"));
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    /// <summary>
    /// A large Data-In: its data goes from the socket straight into the command's buffer (the framer hands over what
    /// it already holds), saving a copy per byte; the data digest is checked over the destination afterwards.
    /// </summary>
    async Task ReceiveDataInDirectAsync(IscsiPdu header)
    {
        AccountSequenceNumbers(header);
        var pending = CheckDataIn(header, header.DataSegmentLength);
        int length = header.DataSegmentLength;
        int offset = (int)header.BufferOffset;
        var destination = pending.BeginDirect(offset, length) ?? new byte[length];
        try
        {
            int got = _framer.TakeBuffered(destination.Span);
            int external = 0;
            while (got < length)
            {
                int n = await _socket.ReceiveAsync(destination[got..], SocketFlags.None, _closing.Token);
                if (n == 0) throw new IscsiConnectionException($"iSCSI {Portal}: the target closed the connection in the middle of a Data-In PDU");
                got += n;
                external += n;
            }
            int trailerLength = _framer.SegmentBytes - length;
            int have = _framer.TakeBuffered(_trailer.AsSpan(0, trailerLength));
            while (have < trailerLength)
            {
                int n = await _socket.ReceiveAsync(_trailer.AsMemory(have, trailerLength - have), SocketFlags.None, _closing.Token);
                if (n == 0) throw new IscsiConnectionException($"iSCSI {Portal}: the target closed the connection in the middle of a Data-In PDU");
                have += n;
                external += n;
            }
            _framer.SkipExternal(external);
            Volatile.Write(ref _lastReceiveTicks, Environment.TickCount64);
            if (_digests.Data)
            {
                int pad = PduCodec.PadLength(length);
                uint expected = Digests.Crc32C.Compute(destination.Span, _trailer.AsSpan(0, pad));
                uint actual = Digests.Crc32C.Read(_trailer.AsSpan(pad));
                if (expected != actual)
                    throw new IscsiProtocolException($"data digest mismatch in Data-In for {pending.Command.Name} (received {actual:X8}h, computed {expected:X8}h)", _framer.StreamOffset);
            }
        }
        finally
        {
            pending.EndDirect();
        }
        pending.AddDataIn(offset, length);
        FinishDataIn(pending, header);
    }

    void AccountSequenceNumbers(IscsiPdu pdu)
    {
        var opcode = pdu.Opcode;
        UpdateWindow(pdu.ExpCmdSN, pdu.MaxCmdSN);
        bool carriesStatus = opcode switch
        {
            IscsiOpcode.ScsiResponse or IscsiOpcode.TaskManagementResponse or IscsiOpcode.TextResponse
                or IscsiOpcode.LogoutResponse or IscsiOpcode.Reject or IscsiOpcode.AsyncMessage => true,
            IscsiOpcode.DataIn => (pdu.Flags & 0x01) != 0,
            IscsiOpcode.NopIn => pdu.InitiatorTaskTag != IscsiPdu.ReservedTag,
            _ => false,
        };
        if (carriesStatus) AdvanceStatSN(pdu.StatSN);
    }

    void Dispatch(IscsiPdu pdu)
    {
        var opcode = pdu.Opcode;
        if (opcode == IscsiOpcode.LoginResponse)
            throw new IscsiProtocolException("Login Response received in Full Feature Phase", _framer.StreamOffset);
        AccountSequenceNumbers(pdu);

        switch (opcode)
        {
            case IscsiOpcode.DataIn: OnDataIn(pdu); break;
            case IscsiOpcode.ScsiResponse: OnScsiResponse(pdu); break;
            case IscsiOpcode.ReadyToTransfer: OnR2T(pdu); break;
            case IscsiOpcode.NopIn: OnNopIn(pdu); break;
            case IscsiOpcode.Reject: OnReject(pdu); break;
            case IscsiOpcode.AsyncMessage: OnAsyncMessage(pdu); break;
            case IscsiOpcode.TextResponse or IscsiOpcode.LogoutResponse or IscsiOpcode.TaskManagementResponse:
                if (_requests.TryRemove(pdu.InitiatorTaskTag, out var request))
                    request.TrySetResult((new IscsiPdu(pdu.Header, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty), pdu.Data.ToArray()));
                else
                    throw new IscsiProtocolException($"{opcode} for unknown ITT {pdu.InitiatorTaskTag:X8}h", _framer.StreamOffset);
                break;
            default:
                throw new IscsiProtocolException($"unexpected {opcode} in Full Feature Phase", _framer.StreamOffset);
        }
    }

    void UpdateWindow(uint expCmdSN, uint maxCmdSN)
    {
        // RFC 7143 §4.2.2.1: ignore values when MaxCmdSN < ExpCmdSN - 1 (serial arithmetic).
        if (SerialNumber.LessThan(maxCmdSN, expCmdSN - 1)) return;
        TaskCompletionSource? signal = null;
        lock (_snLock)
        {
            bool changed = false;
            if (SerialNumber.LessThan(_expCmdSN, expCmdSN)) { _expCmdSN = expCmdSN; changed = true; }
            if (SerialNumber.LessThan(_maxCmdSN, maxCmdSN)) { _maxCmdSN = maxCmdSN; changed = true; }
            if (changed)
            {
                signal = _windowChanged;
                _windowChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        signal?.TrySetResult();
    }

    void AdvanceStatSN(uint statSN)
    {
        lock (_snLock)
        {
            if (SerialNumber.LessOrEqual(_expStatSN, statSN)) _expStatSN = statSN + 1;
        }
    }

    PendingCommand Lookup(IscsiPdu pdu)
    {
        if (_commands.TryGetValue(pdu.InitiatorTaskTag, out var pending)) return pending;
        throw new IscsiProtocolException($"{pdu.Opcode} for unknown ITT {pdu.InitiatorTaskTag:X8}h", _framer.StreamOffset);
    }

    void OnDataIn(IscsiPdu pdu)
    {
        var pending = CheckDataIn(pdu, pdu.Data.Length);
        pending.CopyIn(pdu.Data.Span, (int)pdu.BufferOffset);
        FinishDataIn(pending, pdu);
    }

    PendingCommand CheckDataIn(IscsiPdu pdu, int length)
    {
        var pending = Lookup(pdu);
        if (!pending.Command.IsRead)
            throw new IscsiProtocolException($"Data-In for {pending.Command.Name}, which reads no data", _framer.StreamOffset);
        if (pdu.DataSN != pending.NextDataSN)
            throw new IscsiProtocolException($"Data-In DataSN {pdu.DataSN} for {pending.Command.Name}, expected {pending.NextDataSN}", _framer.StreamOffset);
        long offset = pdu.BufferOffset;
        if (offset + length > pending.Command.DataIn.Length)
            throw new IscsiProtocolException($"Data-In at buffer offset {offset} with {length} bytes overruns the {pending.Command.DataIn.Length}-byte buffer of {pending.Command.Name}", _framer.StreamOffset);
        if (Parameters.DataPduInOrder && offset != pending.DataInBytes)
            throw new IscsiProtocolException($"Data-In buffer offset {offset} for {pending.Command.Name}, expected {pending.DataInBytes} (DataPDUInOrder=Yes)", _framer.StreamOffset);
        pending.NextDataSN++;
        return pending;
    }

    void FinishDataIn(PendingCommand pending, IscsiPdu pdu)
    {
        if ((pdu.Flags & 0x01) != 0)
        {
            if ((pdu.Flags & 0x80) == 0)
                throw new IscsiProtocolException("Data-In has S set without F", _framer.StreamOffset);
            Complete(pending, new ScsiResult((ScsiStatus)pdu.Byte3, null, pending.DataInBytes,
                (pdu.Flags & 0x02) != 0, (pdu.Flags & 0x04) != 0, pdu.ResidualCount));
        }
    }

    void OnScsiResponse(IscsiPdu pdu)
    {
        var pending = Lookup(pdu);
        if (pdu.Byte2 != 0)
        {
            Complete(pending, new IOException($"{pending.Command.Name}: iSCSI target failure (response {pdu.Byte2:X2}h)"));
            return;
        }
        SenseData? sense = null;
        var data = pdu.Data.Span;
        if (data.Length >= 2)
        {
            int senseLength = BinaryPrimitives.ReadUInt16BigEndian(data);
            if (senseLength > data.Length - 2)
                throw new IscsiProtocolException($"SCSI Response SenseLength {senseLength} exceeds its {data.Length - 2} data bytes", _framer.StreamOffset);
            if (senseLength > 0)
            {
                try
                {
                    sense = SenseData.Read(data.Slice(2, senseLength));
                }
                catch (Offhost.Core.Errors.CorruptStructureException e)
                {
                    Complete(pending, new IOException($"{pending.Command.Name}: unreadable sense data: {e.Message}", e));
                    return;
                }
            }
        }
        Complete(pending, new ScsiResult((ScsiStatus)pdu.Byte3, sense, pending.DataInBytes,
            (pdu.Flags & 0x02) != 0, (pdu.Flags & 0x04) != 0, pdu.ResidualCount));
    }

    void OnR2T(IscsiPdu pdu)
    {
        var pending = Lookup(pdu);
        long offset = pdu.BufferOffset;
        long length = pdu.DesiredDataTransferLength;
        if (!pending.Command.IsWrite || length == 0 || offset + length > pending.Command.DataOut.Length)
            throw new IscsiProtocolException($"R2T for {pending.Command.Name} asks for {length} bytes at offset {offset} of a {pending.Command.DataOut.Length}-byte transfer", _framer.StreamOffset);
        if (length > Parameters.MaxBurstLengthBytes)
            throw new IscsiProtocolException($"R2T asks for {length} bytes, more than MaxBurstLength {Parameters.MaxBurstLengthBytes}", _framer.StreamOffset);
        if (pdu.TargetTransferTag == IscsiPdu.ReservedTag)
            throw new IscsiProtocolException("R2T carries the reserved Target Transfer Tag", _framer.StreamOffset);
        _ = AnswerR2TAsync(pending, pdu.TargetTransferTag, (int)offset, (int)length);
    }

    void OnNopIn(IscsiPdu pdu)
    {
        if (pdu.TargetTransferTag != IscsiPdu.ReservedTag)
        {
            // The target pings us: answer with the same TTT and LUN, echoing its data.
            var reply = new IscsiPdu(IscsiOpcode.NopOut)
            {
                Immediate = true,
                LunField = pdu.LunField,
                InitiatorTaskTag = IscsiPdu.ReservedTag,
                TargetTransferTag = pdu.TargetTransferTag,
            };
            reply.Final = true;
            var data = pdu.Data.ToArray();
            _ = SendImmediateAsync(reply, data);
            return;
        }
        if (_requests.TryRemove(pdu.InitiatorTaskTag, out var request))
            request.TrySetResult((new IscsiPdu(pdu.Header, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty), pdu.Data.ToArray()));
    }

    async Task SendImmediateAsync(IscsiPdu pdu, byte[] data)
    {
        try
        {
            await _sendLock.WaitAsync(_closing.Token);
            try
            {
                lock (_snLock) pdu.CmdSN = _cmdSN;
                await SendLockedAsync(pdu, data);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    void OnReject(IscsiPdu pdu)
    {
        string reason = pdu.Byte2 switch
        {
            0x02 => "data digest error",
            0x03 => "SNACK reject",
            0x04 => "protocol error",
            0x05 => "command not supported",
            0x06 => "immediate command reject",
            0x07 => "task in progress",
            0x08 => "invalid data ack",
            0x09 => "invalid PDU field",
            0x0A => "long operation reject",
            0x0C => "waiting for logout",
            _ => $"reason {pdu.Byte2:X2}h",
        };
        if (pdu.Data.Length >= IscsiPdu.BhsLength)
        {
            uint itt = BinaryPrimitives.ReadUInt32BigEndian(pdu.Data.Span[16..]);
            if (_commands.TryGetValue(itt, out var pending))
            {
                // At ERL 0 the rejected PDU's task cannot be recovered; its status would never come.
                throw new IscsiProtocolException($"target rejected a PDU of {pending.Command.Name}: {reason}", _framer.StreamOffset);
            }
            if (_requests.TryRemove(itt, out var request))
            {
                request.TrySetException(new IscsiProtocolException($"target rejected the request: {reason}"));
                return;
            }
        }
        throw new IscsiProtocolException($"target rejected a PDU: {reason}", _framer.StreamOffset);
    }

    void OnAsyncMessage(IscsiPdu pdu)
    {
        byte asyncEvent = pdu.Header[36];
        if (asyncEvent is 2 or 3)
            throw new IscsiConnectionException($"iSCSI {Portal}: the target announced it is dropping the connection (async event {asyncEvent})");
        // Event 1 (logout requested) and 4 (renegotiation) are honoured by the next reconnect; SCSI events need no action.
    }

    void Complete(PendingCommand pending, ScsiResult result)
    {
        if (_commands.TryRemove(pending.Itt, out _))
        {
            pending.Completion.TrySetResult(result);
            _queue.Release();
        }
    }

    void Complete(PendingCommand pending, Exception error)
    {
        if (_commands.TryRemove(pending.Itt, out _))
        {
            pending.Completion.TrySetException(error);
            _queue.Release();
        }
    }

    // ---------------------------------------------------------------- non-SCSI requests

    async Task<(IscsiPdu Header, byte[] Data)> RequestAsync(IscsiPdu pdu, bool consumesCmdSN, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        uint itt = NextItt();
        pdu.InitiatorTaskTag = itt;
        var tcs = new TaskCompletionSource<(IscsiPdu, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[itt] = tcs;
        try
        {
            if (consumesCmdSN) await WaitForWindowAsync(cancellationToken);
            await _sendLock.WaitAsync(cancellationToken);
            try
            {
                ThrowIfFailed();
                lock (_snLock) pdu.CmdSN = consumesCmdSN ? _cmdSN++ : _cmdSN;
                await SendLockedAsync(pdu, pdu.Data);
            }
            finally
            {
                _sendLock.Release();
            }
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            try
            {
                return await tcs.Task.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var e = new IscsiConnectionException($"iSCSI {Portal}: no answer to {pdu.Opcode} within {timeout.TotalSeconds:0.#} s; connection dropped");
                Fail(e);
                throw e;
            }
        }
        finally
        {
            _requests.TryRemove(itt, out _);
        }
    }

    /// <summary>Sends a NOP-Out ping and waits for the echo.</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        var ping = new IscsiPdu(IscsiOpcode.NopOut) { Immediate = true, TargetTransferTag = IscsiPdu.ReservedTag };
        ping.Final = true;
        ping.Data = "offhost"u8.ToArray();
        var (_, data) = await RequestAsync(ping, consumesCmdSN: false, _options.PingTimeout, cancellationToken);
        if (!data.AsSpan().SequenceEqual("offhost"u8))
            throw new IscsiProtocolException("NOP-In did not echo the ping data");
    }

    /// <summary>SendTargets (RFC 7143 Appendix C): target names and their portal addresses.</summary>
    public async Task<IReadOnlyList<DiscoveredTarget>> SendTargetsAsync(string query, CancellationToken cancellationToken)
    {
        var all = new TextParameters();
        uint ttt = IscsiPdu.ReservedTag;
        var keys = new TextParameters();
        keys.Add("SendTargets", query);
        byte[] payload = keys.Encode();
        for (int round = 0; ; round++)
        {
            if (round > 1000) throw new IscsiProtocolException("SendTargets answer continues for more than 1000 PDUs");
            var request = new IscsiPdu(IscsiOpcode.TextRequest) { TargetTransferTag = ttt, Data = payload };
            request.Final = true;
            var (header, data) = await RequestAsync(request, consumesCmdSN: true, _options.CommandTimeout, cancellationToken);
            all.AddRange(TextParameters.Parse(data));
            if ((header.Flags & 0x40) == 0) break;
            ttt = header.TargetTransferTag;
            payload = [];
        }
        var targets = new List<DiscoveredTarget>();
        foreach (var (key, value) in all.Pairs)
        {
            if (key == "TargetName") targets.Add(new DiscoveredTarget(value, new List<string>()));
            else if (key == "TargetAddress" && targets.Count > 0) ((List<string>)targets[^1].Addresses).Add(value);
        }
        return targets;
    }

    /// <summary>Closes the session with a Logout (reason 0) and closes the socket. Never throws for a dead connection.</summary>
    public async Task LogoutAsync(CancellationToken cancellationToken)
    {
        if (_failure is null && !_loggedOut)
        {
            _loggedOut = true;
            var logout = new IscsiPdu(IscsiOpcode.LogoutRequest) { Immediate = true };
            logout.Flags = 0x80;
            try
            {
                var (header, _) = await RequestAsync(logout, consumesCmdSN: false, _options.PingTimeout, cancellationToken);
                _ = header;
            }
            catch (IOException)
            {
                // The target is gone or refused; closing the socket ends the session either way.
            }
        }
        Fail(new IscsiConnectionException($"iSCSI {Portal}: session logged out"));
    }

    async Task KeepAliveLoopAsync()
    {
        var interval = _options.KeepAliveInterval;
        using var timer = new PeriodicTimer(interval / 2);
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token))
            {
                if (_failure is not null) return;
                long idle = Environment.TickCount64 - Volatile.Read(ref _lastReceiveTicks);
                if (idle < interval.TotalMilliseconds) continue;
                await PingAsync(_closing.Token);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { Fail(e); }
    }

    void ThrowIfFailed()
    {
        if (_failure is { } f)
            throw f as IscsiConnectionException ?? new IscsiConnectionException($"iSCSI {Portal}: {f.Message}", f);
    }

    /// <summary>Marks the session dead, closes the socket and fails everything pending.</summary>
    void Fail(Exception error)
    {
        var failure = error as IscsiConnectionException
            ?? new IscsiConnectionException($"iSCSI {Portal}: connection failed: {error.Message}", error);
        if (Interlocked.CompareExchange(ref _failure, failure, null) is not null) return;
        try { _closing.Cancel(); } catch (ObjectDisposedException) { }
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
        foreach (var (itt, pending) in _commands)
            if (_commands.TryRemove(itt, out _))
            {
                pending.Completion.TrySetException(failure);
                _queue.Release();
            }
        foreach (var (itt, request) in _requests)
            if (_requests.TryRemove(itt, out _)) request.TrySetException(failure);
        TaskCompletionSource signal;
        lock (_snLock) signal = _windowChanged;
        signal.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(_options.PingTimeout))
        {
            try { await LogoutAsync(cts.Token); } catch (OperationCanceledException) { }
        }
        Fail(new IscsiConnectionException($"iSCSI {Portal}: session closed"));
        if (_reader is not null) await _reader.ConfigureAwait(false);
        if (_keepAlive is not null) await _keepAlive.ConfigureAwait(false);
    }

    sealed class PendingCommand(uint itt, ScsiCommand command)
    {
        readonly Lock _gate = new();
        bool _abandoned;
        bool _receiving;
        TaskCompletionSource? _receiveDone;

        public uint Itt { get; } = itt;
        public ScsiCommand Command { get; } = command;
        public TaskCompletionSource<ScsiResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public uint NextDataSN { get; set; }
        public int DataInBytes { get; private set; }
        public int DataOutSent { get; set; }

        public void CopyIn(ReadOnlySpan<byte> data, int offset)
        {
            lock (_gate)
            {
                if (!_abandoned) data.CopyTo(Command.DataIn.Span[offset..]);
            }
            AddDataIn(offset, data.Length);
        }

        public void AddDataIn(int offset, int length) => DataInBytes = Math.Max(DataInBytes, offset + length);

        /// <summary>The caller's buffer to receive into directly, or null once the caller has given up on it.</summary>
        public Memory<byte>? BeginDirect(int offset, int length)
        {
            lock (_gate)
            {
                if (_abandoned) return null;
                _receiving = true;
                return Command.DataIn.Slice(offset, length);
            }
        }

        public void EndDirect()
        {
            TaskCompletionSource? waiter;
            lock (_gate)
            {
                _receiving = false;
                waiter = _receiveDone;
            }
            waiter?.TrySetResult();
        }

        /// <summary>Stops all further writes into the caller's buffer; completes once no receive into it is in flight.</summary>
        public Task AbandonAsync()
        {
            lock (_gate)
            {
                _abandoned = true;
                if (!_receiving) return Task.CompletedTask;
                _receiveDone ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _receiveDone.Task;
            }
        }
    }
}

/// <summary>A target found by SendTargets: its name and portal addresses ("host:port,tpgt").</summary>
public sealed record DiscoveredTarget(string Name, IReadOnlyList<string> Addresses);
