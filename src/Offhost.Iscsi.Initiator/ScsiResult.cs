using Offhost.Scsi.Commands;
using Offhost.Scsi.Sense;

namespace Offhost.Iscsi.Initiator;

/// <summary>How a SCSI command ended: status, sense data for CHECK CONDITION, and the residual (bytes).</summary>
public sealed record ScsiResult(ScsiStatus Status, SenseData? Sense, int DataInBytes, bool Underflow, bool Overflow, uint ResidualBytes)
{
    public bool IsGood => Status == ScsiStatus.Good;

    /// <summary>Throws <see cref="ScsiCheckConditionException"/> (or <see cref="IOException"/> for other statuses) unless GOOD.</summary>
    public ScsiResult ThrowIfNotGood(string command)
    {
        if (Status == ScsiStatus.Good) return this;
        if (Status == ScsiStatus.CheckCondition && Sense is not null) throw new ScsiCheckConditionException(command, Sense);
        throw new IOException($"{command}: SCSI status {Status} ({(byte)Status:X2}h)");
    }
}
