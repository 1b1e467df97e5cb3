using Offhost.Core.Devices;
using Offhost.Core.Units;

namespace Offhost.DataMover.Execution;

/// <summary>
/// Writes byte ranges to a block device: whole aligned blocks straight from the caller's memory, partial blocks at either end
/// by read-modify-write through a one-block buffer (only the byte-offset segment types and padding need that).
/// Single-threaded.
/// </summary>
internal sealed class BlockByteWriter(IBlockDevice device)
{
    readonly byte[] block = new byte[device.BlockSizeBytes];

    public async ValueTask WriteAsync(long offsetBytes, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        int bs = device.BlockSizeBytes;
        while (!data.IsEmpty)
        {
            int inBlock = (int)(offsetBytes % bs);
            if (inBlock == 0 && data.Length >= bs)
            {
                int whole = data.Length / bs * bs;
                await device.WriteAsync(new Lba(offsetBytes / bs), data[..whole], ct);
                offsetBytes += whole;
                data = data[whole..];
                continue;
            }
            int n = Math.Min(bs - inBlock, data.Length);
            var lba = new Lba(offsetBytes / bs);
            await device.ReadAsync(lba, block, ct);
            data.Span[..n].CopyTo(block.AsSpan(inBlock));
            await device.WriteAsync(lba, block, ct);
            offsetBytes += n;
            data = data[n..];
        }
    }

    /// <summary>Zero-fills from <paramref name="offsetBytes"/> to the end of its block (nothing when already aligned).</summary>
    public async ValueTask PadToBlockAsync(long offsetBytes, CancellationToken ct)
    {
        int bs = device.BlockSizeBytes;
        int inBlock = (int)(offsetBytes % bs);
        if (inBlock == 0) return;
        var lba = new Lba(offsetBytes / bs);
        await device.ReadAsync(lba, block, ct);
        block.AsSpan(inBlock).Clear();
        await device.WriteAsync(lba, block, ct);
    }
}
