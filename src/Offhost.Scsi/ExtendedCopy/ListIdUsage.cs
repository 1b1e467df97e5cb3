namespace Offhost.Scsi.ExtendedCopy;

/// <summary>LIST ID USAGE (parameter list byte 1 bits 4-3; SPC-4). In SPC-2/3 bit 4 was NRCR, which equals <see cref="NoHold"/>.</summary>
public enum ListIdUsage : byte
{
    /// <summary>00b: the list id identifies the command and the copy manager holds its results for RECEIVE COPY RESULTS.</summary>
    Hold = 0,
    /// <summary>01b: reserved; rejected.</summary>
    Reserved = 1,
    /// <summary>10b: the list id identifies the running command, but nothing is held for retrieval beyond the status.</summary>
    NoHold = 2,
    /// <summary>11b: the list id is not used (only with SNLID=1).</summary>
    NotUsed = 3,
}
