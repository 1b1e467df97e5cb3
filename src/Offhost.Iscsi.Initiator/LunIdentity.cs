using Offhost.Scsi.Commands;

namespace Offhost.Iscsi.Initiator;

/// <summary>What INQUIRY says about a logical unit, and the stable identity derived from it.</summary>
internal static class LunIdentity
{
    public static async Task<StandardInquiryData> InquireAsync(LunConnection lun, CancellationToken cancellationToken)
    {
        var buffer = new byte[96];
        var result = (await lun.ExecuteAsync(() => new ScsiCommand
        {
            Cdb = Inquiry.Cdb((ushort)buffer.Length), Lun = lun.Lun, Name = "INQUIRY", DataIn = buffer,
        }, retryable: true, cancellationToken)).ThrowIfNotGood($"{lun.Name}: INQUIRY");
        var data = StandardInquiryData.Parse(buffer.AsSpan(0, result.DataInBytes));
        if (!data.LogicalUnitPresent)
            throw new Offhost.Core.Errors.UserFacingException($"{lun.Uri}: no logical unit at LUN {lun.Uri.Lun} (peripheral qualifier {data.PeripheralQualifier})", 2);
        return data;
    }

    /// <summary>The NAA designator of VPD page 83h as hex; failing that the unit serial number; failing that target/LUN.</summary>
    public static async Task<string> DeviceIdAsync(LunConnection lun, CancellationToken cancellationToken)
    {
        var page = await VpdAsync(lun, Inquiry.DeviceIdentificationPage, cancellationToken);
        if (page is not null)
        {
            string? naa = DeviceIdentificationPage.NaaOfLogicalUnit(DeviceIdentificationPage.Parse(page));
            if (naa is not null) return naa;
        }
        var serialPage = await VpdAsync(lun, Inquiry.UnitSerialNumberPage, cancellationToken);
        if (serialPage is not null)
        {
            string serial = UnitSerialNumberPage.Parse(serialPage);
            if (serial.Length > 0) return $"serial:{serial}";
        }
        return $"iscsi:{lun.Uri.TargetName}/{lun.Uri.Lun}";
    }

    static async Task<byte[]?> VpdAsync(LunConnection lun, byte pageCode, CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        var result = await lun.ExecuteAsync(() => new ScsiCommand
        {
            Cdb = Inquiry.VpdCdb(pageCode, (ushort)buffer.Length), Lun = lun.Lun, Name = $"INQUIRY VPD {pageCode:X2}h", DataIn = buffer,
        }, retryable: true, cancellationToken);
        return result.IsGood ? buffer.AsSpan(0, result.DataInBytes).ToArray() : null;
    }
}
