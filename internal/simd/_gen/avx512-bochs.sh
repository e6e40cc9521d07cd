#!/bin/sh
# avx512-bochs.sh runs the simd tests on an emulated AVX-512 CPU, for
# machines that lack AVX-512 (the amd64 kernels are otherwise only tested
# where the hardware has them).
#
# It boots Debian's Linux 5.10 under Bochs 2.7 (CPU model corei7_skylake_x:
# AVX-512F/VL/DQ/BW) from an ISO whose initramfs holds a static build of
# the test binary as /init, and prints the serial console. Linux 6.x turns
# XSAVE off on Bochs 2.7 ("XSAVE consistency problem") and then reports no
# AVX at all, hence bullseye's 5.10, which only warns. One run of the
# default tests takes about three minutes.
#
# The emulation is not perfect: Bochs's XSAVE layout disagrees with the
# kernel's, and vector registers now and then come back wrong after a
# context switch (seen as failures in the float64 oracle, the Go kernel
# and multi-threaded tests, different from run to run). A real kernel bug
# fails the same way every run and in one implementation only; run twice
# when in doubt. Go's asynchronous preemption is off, and GC too, to keep
# switches rare.
#
# Usage (as root): sh internal/simd/_gen/avx512-bochs.sh [test flags]
# Default flags: -test.short and the tests named below, without
# TestGemmPacked (too slow emulated; TestKernels covers the epilogue).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
pkg=$(cd "$here/.." && pwd)
work=${WORK:-/tmp/avx512-bochs}
flags=${*:-"-test.short -test.run=TestKernels|TestSgemmSizes|TestSgemmBlocks|TestSgemmNaNInf|TestSgemmZero|TestGemmPackedNaN|TestGemmPackedZero|TestThreadsDeterministic|TestSharedBSuperblocks|TestMisuse|TestUse"}
mkdir -p "$work"
cd "$work"

need=""
for p in bochs bochs-term bochsbios vgabios isolinux syslinux-common xorriso cpio; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	apt-get update -qq
	apt-get install -y -qq $need >/dev/null
fi

# Linux 5.10 from Debian bullseye, through a private apt state so that the
# system's sources are untouched.
if [ ! -f vmlinuz ]; then
	mkdir -p apt/lists/partial
	echo "deb http://deb.debian.org/debian bullseye main" >apt/sources.list
	aptopt="-o Dir::Etc::sourcelist=$work/apt/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$work/apt/lists"
	apt-get $aptopt update -qq
	img=$(apt-cache $aptopt search --names-only '^linux-image-5\.10\.0-[0-9]+-cloud-amd64$' | cut -d' ' -f1 | sort -V | tail -1)
	apt-get $aptopt download "$img" >/dev/null
	rm -rf kx && dpkg-deb -x linux-image-*.deb kx
	cp kx/boot/vmlinuz-* vmlinuz
fi

# initramfs: the test binary is /init itself. (Bochs 2.7's XSAVE area is
# inconsistent with what Linux expects, so vector state can be corrupted
# when the kernel switches between processes; with the tests as the only
# process, Go's asynchronous preemption off and one P, the runs here were
# clean, and a corrupted run shows up as failures in the float64 oracle
# and the Go kernel too, not only in one implementation.)
rm -rf root iso && mkdir -p root/dev root/tmp iso/isolinux
(cd "$pkg" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go test -c -o "$work/root/init" .)
mknod root/dev/console c 5 1
mknod root/dev/null c 1 3
(cd root && find . | cpio -o -H newc 2>/dev/null | gzip -1 >../iso/initrd.gz)
cp vmlinuz iso/vmlinuz
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 iso/isolinux/
cat >iso/isolinux/isolinux.cfg <<EOF
SERIAL 0 115200
DEFAULT t
PROMPT 0
LABEL t
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz console=ttyS0,115200 quiet panic=0 GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 -- -test.v $flags
EOF
rm -f boot.iso serial.out
xorriso -as mkisofs -quiet -o boot.iso -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table iso

cat >bochsrc <<EOF
megs: 1024
cpu: model=corei7_skylake_x, count=1, ips=300000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=serial.out
display_library: term
log: bochs.log
panic: action=fatal
error: action=report
clock: sync=none
EOF
echo c >debugger.rc # Debian's Bochs starts in its debugger; continue

# The term display needs a terminal: script(1) provides one.
TERM=xterm script -qfec "bochs -q -f bochsrc -rc debugger.rc" /dev/null >bochs.out 2>&1 &
pid=$!
deadline=$(($(date +%s) + ${TIMEOUT:-3600}))
# The test binary exits, and the kernel panics ("Attempted to kill init").
while ! grep -aq "Kernel panic" serial.out 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
		break
	fi
	sleep 5
done
kill "$pid" 2>/dev/null || true
cat serial.out
grep -aq "Attempted to kill init! exitcode=0x00000000" serial.out # the tests exited 0
