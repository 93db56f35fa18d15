/*
 * SPDX-License-Identifier: MIT
 *
 * ACPI SSDT for the Xen HVM domU (xl.cfg acpi_firmware=): two virtio-mmio devices as
 * Linux's virtio_mmio driver finds them on ACPI systems (_HID "LNRO0005"), each a 0x200-byte
 * register window claimed by vb-xen-backend's ioreq server, both on ISA IRQ 7, level
 * triggered, active high (free on Xen's HVM platform: hvmloader routes PCI INTx to 5, 10 and
 * 11; virtio_mmio requests its interrupt shared). Compiled by iasl (acpica-tools).
 */
DefinitionBlock ("virtio-ssdt.aml", "SSDT", 2, "VBTEST", "VIRTMMIO", 1)
{
    Scope (\_SB)
    {
        Device (VB00)
        {
            Name (_HID, "LNRO0005")
            Name (_UID, 0)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite, 0xFE000000, 0x00000200)
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 7 }
            })
        }
        Device (VB01)
        {
            Name (_HID, "LNRO0005")
            Name (_UID, 1)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite, 0xFE000200, 0x00000200)
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 7 }
            })
        }
    }
}
