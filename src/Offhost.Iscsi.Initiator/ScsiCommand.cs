namespace Offhost.Iscsi.Initiator;

/// <summary>One SCSI command for <see cref="IscsiSession.ExecuteAsync"/>: a CDB of up to 16 bytes, the LUN and at most
/// one data buffer. The Expected Data Transfer Length is the buffer's length unless <see cref="ExpectedLengthBytes"/>
/// says otherwise (smaller only).</summary>
public sealed class ScsiCommand
{
    public required byte[] Cdb { get; init; }
    /// <summary>SAM-encoded 8-byte LUN (see <see cref="Offhost.Scsi.Commands.Lun.Encode"/>).</summary>
    public required ulong Lun { get; init; }
    /// <summary>Name for error messages, e.g. "READ(16) LBA 2048".</summary>
    public required string Name { get; init; }
    /// <summary>Receives Data-In; written only while the command is outstanding.</summary>
    public Memory<byte> DataIn { get; init; }
    public ReadOnlyMemory<byte> DataOut { get; init; }

    public bool IsRead => !DataIn.IsEmpty;
    public bool IsWrite => !DataOut.IsEmpty;
    public int ExpectedLengthBytes => IsRead ? DataIn.Length : DataOut.Length;
}
