using Offhost.DataMover.Execution;
using Offhost.Scsi.ExtendedCopy;
using Offhost.Scsi.Sense;

namespace Offhost.DataMover;

/// <summary>
/// The copy manager (data mover): executes EXTENDED COPY (LID1) parameter lists for one application client (an I_T nexus,
/// or a backup job) against the block and stream devices registered for it, and keeps the results for RECEIVE COPY RESULTS
/// per list identifier. A list is validated as a whole, in the order SPC initiators expect, and every segment is checked
/// against its devices before any data moves. Thread-safe: several lists may run at once (distinct list identifiers).
/// </summary>
public sealed class CopyManager(DeviceRegistry registry, string requester, CopyManagerOptions? options = null)
{
    readonly CopyManagerOptions options = options ?? CopyManagerOptions.Default;
    readonly Lock gate = new();
    readonly Dictionary<byte, CopyCommand> running = [];
    readonly Dictionary<byte, HeldResults> held = [];
    // Enough for one command's read pipeline, and one more running beside it, to reuse their buffers.
    readonly ReadBufferPool readBuffers = new(2 * (Math.Max(1, (options ?? CopyManagerOptions.Default).ReadsInFlight) + 1));

    sealed record HeldResults(CopyStatus Status, FailedSegmentDetails Details, byte[] Data);

    public OperatingParameters OperatingParameters => options.OperatingParameters;

    /// <summary>Executes the EXTENDED COPY CDB with its Data-Out. PARAMETER LIST LENGTH 0 does nothing (GOOD).</summary>
    public Task<CopyOutcome> ExecuteCommandAsync(ReadOnlySpan<byte> cdb, ReadOnlyMemory<byte> dataOut, CancellationToken cancellationToken)
    {
        var c = ExtendedCopyCdb.Read(cdb);
        if (c.ParameterListLengthBytes == 0) return Task.FromResult(CopyOutcome.Nothing);
        if (c.ParameterListLengthBytes < ExtendedCopyParameterList.HeaderBytes || c.ParameterListLengthBytes > dataOut.Length)
            throw ExtendedCopyException.IllegalRequest(0x1A, 0x00, null,
                $"PARAMETER LIST LENGTH {c.ParameterListLengthBytes} with {dataOut.Length} bytes of data");
        return ExecuteAsync(dataOut[..(int)c.ParameterListLengthBytes], cancellationToken);
    }

    /// <summary>Validates and executes a parameter list. Throws <see cref="ExtendedCopyException"/> (ILLEGAL REQUEST) when the
    /// list is invalid and nothing was done, <see cref="CopyAbortedException"/> when a segment failed (what was written is
    /// reported), <see cref="OperationCanceledException"/> when cancelled.</summary>
    public Task<CopyOutcome> ExecuteAsync(ReadOnlyMemory<byte> parameterList, CancellationToken cancellationToken) =>
        ExecuteAsync(ExtendedCopyParameterList.Read(parameterList.Span, options.OperatingParameters), cancellationToken);

    /// <summary>Executes a decoded list; it is re-validated against this copy manager's limits first.</summary>
    public async Task<CopyOutcome> ExecuteAsync(ExtendedCopyParameterList list, CancellationToken cancellationToken)
    {
        list = ExtendedCopyParameterList.Read(list.ToBytes(), options.OperatingParameters);
        var command = new CopyCommand(list, registry, requester, options, readBuffers);
        bool tracked = list.ListIdUsage != ListIdUsage.NotUsed;
        lock (gate)
        {
            if (tracked && running.ContainsKey(list.ListIdentifier))
                throw ExtendedCopyException.IllegalRequest(0x00, 0x16, 0, $"list identifier {list.ListIdentifier} is in use by a running EXTENDED COPY");
            if (running.Count >= options.OperatingParameters.MaxConcurrentCopies)
                throw new ExtendedCopyException(new SenseData(SenseKey.IllegalRequest, 0x2C, 0x00),
                    $"{running.Count} copies are already running, the maximum for one requester");
            if (tracked) running[list.ListIdentifier] = command;
        }
        try
        {
            command.Plan();
            await command.RunAsync(cancellationToken);
            var outcome = new CopyOutcome(command.SegmentsProcessed, command.TransferredBytes);
            Finish(list, command, CopyManagerStatus.CompletedWithoutErrors, FailedSegmentDetails.None);
            return outcome;
        }
        catch (ExtendedCopyException e)
        {
            Finish(list, command, CopyManagerStatus.CompletedWithErrors,
                new FailedSegmentDetails(FailedSegmentDetails.CheckConditionStatus, e.Sense.ToFixedBytes()));
            throw;
        }
        catch (OperationCanceledException)
        {
            Finish(list, command, CopyManagerStatus.CompletedWithErrors, FailedSegmentDetails.None);
            throw;
        }
        finally
        {
            lock (gate)
            {
                if (tracked && running.TryGetValue(list.ListIdentifier, out var c) && ReferenceEquals(c, command))
                    running.Remove(list.ListIdentifier);
            }
        }
    }

    void Finish(ExtendedCopyParameterList list, CopyCommand command, CopyManagerStatus status, FailedSegmentDetails details)
    {
        if (list.ListIdUsage == ListIdUsage.NotUsed) return;
        var copyStatus = CopyStatus.FromBytes(status, command.SegmentsProcessed, command.TransferredBytes, command.Held.Discarded);
        // Usage 10b keeps the status only; usage 00b also keeps failure details and held data. Reuse replaces old results.
        var results = list.ListIdUsage == ListIdUsage.Hold
            ? new HeldResults(copyStatus, details, command.Held.ToArray())
            : new HeldResults(copyStatus, FailedSegmentDetails.None, []);
        lock (gate) held[list.ListIdentifier] = results;
    }

    /// <summary>COPY STATUS of list <paramref name="listIdentifier"/>, running or finished. Unknown → ILLEGAL REQUEST 24h/00h.</summary>
    public CopyStatus GetCopyStatus(byte listIdentifier)
    {
        lock (gate)
        {
            if (running.TryGetValue(listIdentifier, out var c))
                return CopyStatus.FromBytes(CopyManagerStatus.InProgress, c.SegmentsProcessed, c.TransferredBytes, c.Held.Discarded);
            if (held.TryGetValue(listIdentifier, out var h)) return h.Status;
        }
        throw UnknownList(listIdentifier);
    }

    public FailedSegmentDetails GetFailedSegmentDetails(byte listIdentifier)
    {
        lock (gate)
        {
            if (held.TryGetValue(listIdentifier, out var h)) return h.Details;
            if (running.ContainsKey(listIdentifier)) return FailedSegmentDetails.None;
        }
        throw UnknownList(listIdentifier);
    }

    /// <summary>Held data of the "+hold" segments of list <paramref name="listIdentifier"/> (RECEIVE DATA).</summary>
    public byte[] GetHeldData(byte listIdentifier)
    {
        lock (gate)
        {
            if (held.TryGetValue(listIdentifier, out var h)) return h.Data;
        }
        throw UnknownList(listIdentifier);
    }

    static ExtendedCopyException UnknownList(byte id) =>
        ExtendedCopyException.InvalidCdbField(0x24, 0x00, 2, $"no EXTENDED COPY with list identifier {id} is running or has held results");

    /// <summary>Answers a RECEIVE COPY RESULTS CDB: the parameter data, cut to the ALLOCATION LENGTH.</summary>
    public byte[] ReceiveCopyResults(ReadOnlySpan<byte> cdb)
    {
        var c = ReceiveCopyResultsCdb.Read(cdb);
        byte[] data = c.ServiceAction switch
        {
            ReceiveCopyResultsServiceAction.CopyStatus => GetCopyStatus(c.ListIdentifier).ToBytes(),
            ReceiveCopyResultsServiceAction.OperatingParameters => options.OperatingParameters.ToBytes(),
            ReceiveCopyResultsServiceAction.FailedSegmentDetails => GetFailedSegmentDetails(c.ListIdentifier).ToBytes(),
            ReceiveCopyResultsServiceAction.ReceiveData => ReceiveData(GetHeldData(c.ListIdentifier)),
            _ => throw ExtendedCopyException.InvalidCdbField(0x24, 0x00, 1, "unsupported service action"),
        };
        return data.Length <= c.AllocationLengthBytes ? data : data[..(int)c.AllocationLengthBytes];
    }

    static byte[] ReceiveData(byte[] heldData)
    {
        var b = new byte[4 + heldData.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b, (uint)heldData.Length);
        heldData.CopyTo(b, 4);
        return b;
    }
}
