namespace Offhost.Server.Planning;

/// <summary>
/// One step of writing the backup image to the stream device, before it is packed into EXTENDED COPY
/// segment descriptors: bytes the server supplies (headers, resident data, padding), or a range of the
/// source device that the data mover copies without the bytes passing through anyone else.
/// </summary>
public abstract record CopyOp
{
    /// <summary>Bytes this step puts on the stream.</summary>
    public abstract long StreamBytes { get; }
}

/// <summary>Bytes carried in the parameter list (inline data → stream, segment type 04h).</summary>
public sealed record InlineOp(ReadOnlyMemory<byte> Data) : CopyOp
{
    public override long StreamBytes => Data.Length;
}

/// <summary>Whole blocks of the source device (block → stream, segment type 00h).</summary>
/// <param name="Lba">First block, counted from the start of the source device.</param>
/// <param name="Blocks">Number of blocks.</param>
/// <param name="BlockSizeBytes">The source device's logical block size.</param>
public sealed record BlocksOp(long Lba, long Blocks, int BlockSizeBytes) : CopyOp
{
    public override long StreamBytes => Blocks * BlockSizeBytes;
}

/// <summary>An exact byte range of the source device that need not start or end on a block boundary
/// (block&lt;o&gt; → stream, segment type 08h).</summary>
public sealed record ByteRangeOp(long Lba, int ByteOffsetInBlock, long LengthBytes) : CopyOp
{
    public override long StreamBytes => LengthBytes;
}
