using Offhost.Core.Devices;
using Offhost.Core.Units;
using Offhost.Scsi.Commands;

namespace Offhost.Iscsi.Initiator;

/// <summary>
/// A direct-access iSCSI LUN as <see cref="IBlockDevice"/> (async, whole blocks) and <see cref="IBlockSource"/>
/// (sync byte reads for the file-system parsers; unaligned reads fetch the covering blocks). Large requests are
/// split into commands of at most <see cref="IscsiInitiatorOptions.MaxTransferBytes"/> that run concurrently up to
/// the queue depth. Reads survive a dropped connection (new session, re-sent); writes report it. Thread-safe.
/// </summary>
public sealed class IscsiBlockDevice : IBlockDevice, IBlockSource
{
    readonly LunConnection _lun;
    readonly int _maxTransferBlocks;

    IscsiBlockDevice(LunConnection lun, IscsiInitiatorOptions options, string deviceId, Capacity capacity, StandardInquiryData inquiry)
    {
        _lun = lun;
        DeviceId = deviceId;
        BlockSizeBytes = capacity.BlockLengthBytes;
        BlockCount = capacity.BlockCount;
        IsReadOnly = options.ReadOnly;
        Inquiry = inquiry;
        _maxTransferBlocks = Math.Max(1, options.MaxTransferBytes / capacity.BlockLengthBytes);
    }

    public string DeviceId { get; }
    public int BlockSizeBytes { get; }
    public long BlockCount { get; }
    public bool IsReadOnly { get; }
    public StandardInquiryData Inquiry { get; }
    public long LengthBytes => BlockCount * BlockSizeBytes;
    public int LogicalBlockSize => BlockSizeBytes;

    /// <summary>The session in use now (it is replaced after a reconnect).</summary>
    public IscsiSession Session => _lun.Session;

    internal static async Task<IscsiBlockDevice> OpenAsync(IscsiUri uri, IscsiInitiatorOptions options, CancellationToken cancellationToken)
    {
        var lun = await LunConnection.OpenAsync(uri, options, cancellationToken);
        try
        {
            var inquiry = await LunIdentity.InquireAsync(lun, cancellationToken);
            if (inquiry.DeviceType != PeripheralDeviceType.DirectAccess)
                throw new Offhost.Core.Errors.UserFacingException($"{uri}: LUN {uri.Lun} is a {inquiry.DeviceType} device ({inquiry.Vendor} {inquiry.Product}), not a disk", 2);
            string id = await LunIdentity.DeviceIdAsync(lun, cancellationToken);
            var buffer = new byte[ReadCapacity16.DataLength];
            var result = (await lun.ExecuteAsync(() => new ScsiCommand
            {
                Cdb = ReadCapacity16.Cdb(), Lun = lun.Lun, Name = "READ CAPACITY(16)", DataIn = buffer,
            }, retryable: true, cancellationToken)).ThrowIfNotGood($"{lun.Name}: READ CAPACITY(16)");
            var capacity = ReadCapacity16.Parse(buffer.AsSpan(0, result.DataInBytes));
            return new IscsiBlockDevice(lun, options, id, capacity, inquiry);
        }
        catch
        {
            await lun.DisposeAsync();
            throw;
        }
    }

    public async ValueTask ReadAsync(Lba lba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        long blocks = CheckRange(lba, buffer.Length);
        if (blocks == 0) return;
        if (blocks <= _maxTransferBlocks)
        {
            await ReadChunkAsync(lba.Value, buffer, cancellationToken);
            return;
        }
        var chunks = new List<Task>();
        for (long done = 0; done < blocks; done += _maxTransferBlocks)
        {
            int n = (int)Math.Min(_maxTransferBlocks, blocks - done);
            chunks.Add(ReadChunkAsync(lba.Value + done, buffer.Slice(checked((int)(done * BlockSizeBytes)), n * BlockSizeBytes), cancellationToken));
        }
        await Task.WhenAll(chunks);
    }

    async Task ReadChunkAsync(long lba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int blocks = buffer.Length / BlockSizeBytes;
        string name = $"READ(16) LBA {lba} x {blocks}";
        var result = (await _lun.ExecuteAsync(() => new ScsiCommand
        {
            Cdb = Read16.Cdb(lba, blocks), Lun = _lun.Lun, Name = name, DataIn = buffer,
        }, retryable: true, cancellationToken)).ThrowIfNotGood($"{_lun.Name}: {name}");
        if (result.DataInBytes != buffer.Length || result.Underflow || result.Overflow)
            throw new IOException($"{_lun.Name}: {name} returned {result.DataInBytes} of {buffer.Length} bytes (residual {result.ResidualBytes})");
    }

    public async ValueTask WriteAsync(Lba lba, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (IsReadOnly) throw new InvalidOperationException($"{_lun.Name} is open read-only");
        long blocks = CheckRange(lba, buffer.Length);
        if (blocks == 0) return;
        var chunks = new List<Task>();
        for (long done = 0; done < blocks; done += _maxTransferBlocks)
        {
            int n = (int)Math.Min(_maxTransferBlocks, blocks - done);
            chunks.Add(WriteChunkAsync(lba.Value + done, buffer.Slice(checked((int)(done * BlockSizeBytes)), n * BlockSizeBytes), cancellationToken));
        }
        await Task.WhenAll(chunks);
    }

    async Task WriteChunkAsync(long lba, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        int blocks = buffer.Length / BlockSizeBytes;
        string name = $"WRITE(16) LBA {lba} x {blocks}";
        var result = (await _lun.ExecuteAsync(() => new ScsiCommand
        {
            Cdb = Write16.Cdb(lba, blocks), Lun = _lun.Lun, Name = name, DataOut = buffer,
        }, retryable: false, cancellationToken)).ThrowIfNotGood($"{_lun.Name}: {name}");
        if (result.Underflow || result.Overflow)
            throw new IOException($"{_lun.Name}: {name} left a residual of {result.ResidualBytes} bytes");
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (IsReadOnly) return;
        (await _lun.ExecuteAsync(() => new ScsiCommand
        {
            Cdb = SynchronizeCache.Cdb(), Lun = _lun.Lun, Name = "SYNCHRONIZE CACHE(10)",
        }, retryable: true, cancellationToken)).ThrowIfNotGood($"{_lun.Name}: SYNCHRONIZE CACHE(10)");
    }

    /// <summary>Synchronous byte-addressed read for parsers; reads the blocks covering the range in pieces of at most
    /// 8 MiB, so memory stays bounded whatever the request.</summary>
    public void ReadAt(long offsetBytes, Span<byte> buffer)
    {
        if (offsetBytes < 0 || offsetBytes > LengthBytes - buffer.Length)
            throw new EndOfStreamException($"read of {buffer.Length} bytes at {offsetBytes} is past the end of {_lun.Name} ({LengthBytes} bytes)");
        const int pieceBytes = 8 * 1024 * 1024;
        while (!buffer.IsEmpty)
        {
            long firstBlock = offsetBytes / BlockSizeBytes;
            int skip = (int)(offsetBytes - firstBlock * BlockSizeBytes);
            int take = Math.Min(buffer.Length, pieceBytes);
            long lastBlock = (offsetBytes + take - 1) / BlockSizeBytes;
            var covering = new byte[checked((int)((lastBlock - firstBlock + 1) * BlockSizeBytes))];
            try
            {
                Task.Run(() => ReadAsync(new Lba(firstBlock), covering, CancellationToken.None).AsTask()).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is not IOException)
            {
                throw new IOException($"{_lun.Name}: read of {take} bytes at byte offset {offsetBytes} failed: {e.Message}", e);
            }
            covering.AsSpan(skip, take).CopyTo(buffer);
            buffer = buffer[take..];
            offsetBytes += take;
        }
    }

    long CheckRange(Lba lba, int lengthBytes)
    {
        if (lengthBytes % BlockSizeBytes != 0)
            throw new ArgumentException($"buffer of {lengthBytes} bytes is not a whole number of {BlockSizeBytes}-byte blocks");
        long blocks = lengthBytes / BlockSizeBytes;
        if (lba.Value < 0 || lba.Value > BlockCount - blocks)
            throw new ArgumentOutOfRangeException(nameof(lba), $"blocks {lba.Value}..{lba.Value + blocks - 1} are outside {_lun.Name} ({BlockCount} blocks)");
        return blocks;
    }

    public ValueTask DisposeAsync() => _lun.DisposeAsync();
}
