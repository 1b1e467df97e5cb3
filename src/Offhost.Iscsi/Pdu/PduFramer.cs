using Offhost.Iscsi.Digests;

namespace Offhost.Iscsi.Pdu;

/// <summary>
/// Cuts a received byte stream into PDUs, checking lengths, reserved bits, opcode direction and digests
/// before anything is allocated. Bytes arrive through <see cref="GetMemory"/>/<see cref="Advance"/>; each
/// complete PDU comes out of <see cref="TryRead"/>. A returned PDU's <see cref="IscsiPdu.Data"/> and
/// <see cref="IscsiPdu.AdditionalHeader"/> point into the framer's buffer and stay valid only until the next
/// <see cref="GetMemory"/> call (copy what must live longer). The buffer never grows beyond one maximal PDU
/// plus <see cref="ReadAheadBytes"/>. Not thread-safe: one reader.
/// </summary>
public sealed class PduFramer
{
    public const int ReadAheadBytes = 64 * 1024;

    byte[] _buffer;
    int _start;
    int _end;
    long _streamOffset;

    /// <param name="maxDataSegmentLength">Largest data segment accepted (our MaxRecvDataSegmentLength).</param>
    /// <param name="fromTarget">True on an initiator (accepts target opcodes 20h-3Fh only), false on a target.</param>
    public PduFramer(int maxDataSegmentLength, bool fromTarget = true)
    {
        if (maxDataSegmentLength is < 0 or > IscsiPdu.MaxDataSegmentLength)
            throw new ArgumentOutOfRangeException(nameof(maxDataSegmentLength));
        MaxDataSegmentLength = maxDataSegmentLength;
        FromTarget = fromTarget;
        _buffer = new byte[Math.Min(MaxPduLength, 16 * 1024) + ReadAheadBytes];
    }

    /// <summary>Largest data segment accepted; may be changed between PDUs (after login).</summary>
    public int MaxDataSegmentLength { get; set; }

    public bool FromTarget { get; }

    /// <summary>Digests expected on incoming PDUs; switched on after the login that negotiated them.</summary>
    public DigestOptions Digests { get; set; }

    /// <summary>Bytes consumed from the stream so far (offset of the next PDU).</summary>
    public long StreamOffset => _streamOffset;

    /// <summary>Bytes buffered but not yet framed.</summary>
    public int BufferedBytes => _end - _start;

    int MaxPduLength => IscsiPdu.BhsLength + 255 * 4 + 4 + MaxDataSegmentLength + 3 + 4;

    /// <summary>Space to receive at least one byte (up to <paramref name="sizeHint"/>) into; invalidates data of PDUs read earlier.</summary>
    public Memory<byte> GetMemory(int sizeHint = 1)
    {
        if (_start == _end) { _start = 0; _end = 0; }
        int want = Math.Max(1, sizeHint);
        if (_buffer.Length - _end < want)
        {
            int buffered = _end - _start;
            int needed = buffered + want;
            int cap = MaxPduLength + ReadAheadBytes;
            if (needed > _buffer.Length && _buffer.Length < cap)
            {
                var grown = new byte[Math.Min(cap, Math.Max(needed, _buffer.Length * 2))];
                _buffer.AsSpan(_start, buffered).CopyTo(grown);
                _buffer = grown;
            }
            else
            {
                _buffer.AsSpan(_start, buffered).CopyTo(_buffer);
            }
            _start = 0;
            _end = buffered;
        }
        return _buffer.AsMemory(_end);
    }

    /// <summary>Marks <paramref name="count"/> bytes written into the memory from <see cref="GetMemory"/> as received.</summary>
    public void Advance(int count)
    {
        if (count < 0 || _end + count > _buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _end += count;
    }

    /// <summary>Appends bytes (copying); convenient for tests and small inputs.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var m = GetMemory(bytes.Length).Span;
            int n = Math.Min(m.Length, bytes.Length);
            bytes[..n].CopyTo(m);
            Advance(n);
            bytes = bytes[n..];
        }
    }

    /// <summary>How many more bytes the PDU at the head of the buffer needs (at least 1 when incomplete).</summary>
    public int MissingBytes()
    {
        int have = _end - _start;
        if (have < IscsiPdu.BhsLength) return IscsiPdu.BhsLength - have;
        int total = TotalLength(_buffer.AsSpan(_start, IscsiPdu.BhsLength));
        return Math.Max(0, total - have);
    }

    /// <summary>Frames the next complete PDU, or returns false when more bytes are needed. Throws
    /// <see cref="IscsiProtocolException"/> for a PDU that breaks the framing rules; the stream is unusable afterwards.</summary>
    public bool TryRead(out IscsiPdu pdu)
    {
        pdu = null!;
        int have = _end - _start;
        if (have < IscsiPdu.BhsLength) return false;
        var bhs = _buffer.AsSpan(_start, IscsiPdu.BhsLength);
        int total = TotalLength(bhs);
        if (have < total) return false;

        int ahsLength = bhs[4] * 4;
        int dataLength = (bhs[5] << 16) | (bhs[6] << 8) | bhs[7];
        int at = _start + IscsiPdu.BhsLength + ahsLength;
        if (Digests.Header)
        {
            uint expected = Crc32C.Compute(_buffer.AsSpan(_start, IscsiPdu.BhsLength + ahsLength));
            uint actual = Crc32C.Read(_buffer.AsSpan(at));
            if (expected != actual)
                throw new IscsiProtocolException($"header digest mismatch (received {actual:X8}h, computed {expected:X8}h)", _streamOffset);
            at += Crc32C.DigestLength;
        }
        int dataAt = at;
        if (dataLength > 0)
        {
            int padded = dataLength + PduCodec.PadLength(dataLength);
            if (Digests.Data)
            {
                uint expected = Crc32C.Compute(_buffer.AsSpan(dataAt, padded));
                uint actual = Crc32C.Read(_buffer.AsSpan(dataAt + padded));
                if (expected != actual)
                    throw new IscsiProtocolException($"data digest mismatch (received {actual:X8}h, computed {expected:X8}h)", _streamOffset);
            }
        }
        pdu = new IscsiPdu(bhs, _buffer.AsMemory(_start + IscsiPdu.BhsLength, ahsLength), _buffer.AsMemory(dataAt, dataLength));
        _start += total;
        _streamOffset += total;
        return true;
    }

    /// <summary>
    /// For large data segments: when the next PDU has <paramref name="opcode"/> and at least
    /// <paramref name="minDataBytes"/> of data, and its header (BHS, AHS, header digest) is buffered, checks and
    /// consumes only the header. The caller must then consume exactly <see cref="SegmentBytes"/> bytes (data, pad,
    /// data digest): first what is buffered, via <see cref="TakeBuffered"/>, then the rest from the stream itself,
    /// and verify the data digest. This lets a receiver place data straight into its destination.
    /// </summary>
    public bool TryReadHeaderOnly(IscsiOpcode opcode, int minDataBytes, out IscsiPdu header)
    {
        header = null!;
        int have = _end - _start;
        if (have < IscsiPdu.BhsLength) return false;
        var bhs = _buffer.AsSpan(_start, IscsiPdu.BhsLength);
        if ((IscsiOpcode)(bhs[0] & 0x3F) != opcode) return false;
        TotalLength(bhs);                                          // validates
        int dataLength = (bhs[5] << 16) | (bhs[6] << 8) | bhs[7];
        if (dataLength < Math.Max(1, minDataBytes)) return false;
        int ahsLength = bhs[4] * 4;
        int headerLength = IscsiPdu.BhsLength + ahsLength + (Digests.Header ? Crc32C.DigestLength : 0);
        if (have < headerLength) return false;
        if (Digests.Header)
        {
            uint expected = Crc32C.Compute(_buffer.AsSpan(_start, IscsiPdu.BhsLength + ahsLength));
            uint actual = Crc32C.Read(_buffer.AsSpan(_start + IscsiPdu.BhsLength + ahsLength));
            if (expected != actual)
                throw new IscsiProtocolException($"header digest mismatch (received {actual:X8}h, computed {expected:X8}h)", _streamOffset);
        }
        header = new IscsiPdu(bhs, _buffer.AsSpan(_start + IscsiPdu.BhsLength, ahsLength).ToArray(), ReadOnlyMemory<byte>.Empty);
        SegmentBytes = dataLength + PduCodec.PadLength(dataLength) + (Digests.Data ? Crc32C.DigestLength : 0);
        _start += headerLength;
        _streamOffset += headerLength;
        return true;
    }

    /// <summary>Bytes of data segment, pad and data digest that follow the header returned by <see cref="TryReadHeaderOnly"/>.</summary>
    public int SegmentBytes { get; private set; }

    /// <summary>Moves up to <c>destination.Length</c> buffered bytes into <paramref name="destination"/>; returns the count.</summary>
    public int TakeBuffered(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _end - _start);
        _buffer.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        _streamOffset += n;
        return n;
    }

    /// <summary>Accounts for bytes the caller read from the stream itself after <see cref="TakeBuffered"/>.</summary>
    public void SkipExternal(int count) => _streamOffset += count;

    int TotalLength(ReadOnlySpan<byte> bhs)
    {
        if ((bhs[0] & 0x80) != 0)
            throw new IscsiProtocolException($"reserved bit 7 of BHS byte 0 is set ({bhs[0]:X2}h)", _streamOffset);
        var opcode = (IscsiOpcode)(bhs[0] & 0x3F);
        if (!IsKnown(opcode))
            throw new IscsiProtocolException($"unknown opcode {(byte)opcode:X2}h", _streamOffset);
        bool targetOpcode = ((byte)opcode & 0x20) != 0;
        if (targetOpcode != FromTarget)
            throw new IscsiProtocolException($"opcode {opcode} ({(byte)opcode:X2}h) is not sent by the {(FromTarget ? "target" : "initiator")}", _streamOffset);
        int dataLength = (bhs[5] << 16) | (bhs[6] << 8) | bhs[7];
        if (dataLength > MaxDataSegmentLength)
            throw new IscsiProtocolException($"{opcode} DataSegmentLength {dataLength} exceeds the negotiated maximum {MaxDataSegmentLength}", _streamOffset);
        int total = IscsiPdu.BhsLength + bhs[4] * 4 + (Digests.Header ? Crc32C.DigestLength : 0);
        if (dataLength > 0) total += dataLength + PduCodec.PadLength(dataLength) + (Digests.Data ? Crc32C.DigestLength : 0);
        return total;
    }

    static bool IsKnown(IscsiOpcode opcode) => opcode is IscsiOpcode.NopOut or IscsiOpcode.ScsiCommand
        or IscsiOpcode.TaskManagementRequest or IscsiOpcode.LoginRequest or IscsiOpcode.TextRequest
        or IscsiOpcode.DataOut or IscsiOpcode.LogoutRequest or IscsiOpcode.Snack or IscsiOpcode.NopIn
        or IscsiOpcode.ScsiResponse or IscsiOpcode.TaskManagementResponse or IscsiOpcode.LoginResponse
        or IscsiOpcode.TextResponse or IscsiOpcode.DataIn or IscsiOpcode.LogoutResponse
        or IscsiOpcode.ReadyToTransfer or IscsiOpcode.AsyncMessage or IscsiOpcode.Reject;
}
