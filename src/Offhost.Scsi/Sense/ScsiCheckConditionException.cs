namespace Offhost.Scsi.Sense;

/// <summary>A SCSI command ended in CHECK CONDITION; <see cref="Sense"/> says why.</summary>
public class ScsiCheckConditionException(string command, SenseData sense)
    : IOException($"{command}: CHECK CONDITION, {sense}")
{
    public string Command { get; } = command;
    public SenseData Sense { get; } = sense;
}
