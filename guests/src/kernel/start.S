/* hbft guest kernel: entry, interruption vector table, interruption entry
 * and exit, the system-call gateway page.
 *
 * Interruption handlers save %r1 in CR 24 and the interruption number in
 * CR 25 (the temporary registers PA-RISC provides for this), then every
 * general register in `frame`, and call trap(number, frame) in C on the
 * interrupt stack; PSW Q and I are off while they run, so they do not nest.
 * trap_exit loads the registers from `frame` (which trap() may have
 * switched to another process) and returns with rfi.
 */
	.level 1.1

	.text
	.globl _start
_start:
	ldil	L%$global$,%dp
	ldo	R%$global$(%dp),%dp
	ldil	L%boot_stack,%sp
	ldo	R%boot_stack+64(%sp),%sp
	bl	kmain,%r2
	nop
1:	b,n	1b

/* One vector: 32 bytes, 8 instructions. */
	.macro	vector n
	mtctl	%r1,%cr24
	ldi	\n,%r1
	b	trap_entry
	mtctl	%r1,%cr25
	nop
	nop
	nop
	nop
	.endm

	.align	2048
	.globl	ivt
ivt:
	.irp	n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vector	\n
	.endr

/* The gateway's continuation: entered with rfi at level 0, translation
 * off; %r1 was used by the gateway. Handled as interruption 32. */
syscall_entry:
	ldi	32,%r1
	b	trap_entry
	mtctl	%r1,%cr25

trap_entry:
	ldil	L%frame,%r1
	ldo	R%frame(%r1),%r1
	stw	%r2,8(%r1)
	stw	%r3,12(%r1)
	stw	%r4,16(%r1)
	stw	%r5,20(%r1)
	stw	%r6,24(%r1)
	stw	%r7,28(%r1)
	stw	%r8,32(%r1)
	stw	%r9,36(%r1)
	stw	%r10,40(%r1)
	stw	%r11,44(%r1)
	stw	%r12,48(%r1)
	stw	%r13,52(%r1)
	stw	%r14,56(%r1)
	stw	%r15,60(%r1)
	stw	%r16,64(%r1)
	stw	%r17,68(%r1)
	stw	%r18,72(%r1)
	stw	%r19,76(%r1)
	stw	%r20,80(%r1)
	stw	%r21,84(%r1)
	stw	%r22,88(%r1)
	stw	%r23,92(%r1)
	stw	%r24,96(%r1)
	stw	%r25,100(%r1)
	stw	%r26,104(%r1)
	stw	%r27,108(%r1)
	stw	%r28,112(%r1)
	stw	%r29,116(%r1)
	stw	%r30,120(%r1)
	stw	%r31,124(%r1)
	mfctl	%cr24,%r2
	stw	%r2,4(%r1)
	mfctl	%cr11,%r2
	stw	%r2,0(%r1)
	mfctl	%cr25,%r26
	copy	%r1,%r25
	ldil	L%$global$,%dp
	ldo	R%$global$(%dp),%dp
	ldil	L%intr_stack,%sp
	ldo	R%intr_stack+64(%sp),%sp
	bl	trap,%r2
	nop
	.globl	trap_exit
trap_exit:
	ldil	L%frame,%r1
	ldo	R%frame(%r1),%r1
	ldw	0(%r1),%r2
	mtctl	%r2,%cr11
	ldw	8(%r1),%r2
	ldw	12(%r1),%r3
	ldw	16(%r1),%r4
	ldw	20(%r1),%r5
	ldw	24(%r1),%r6
	ldw	28(%r1),%r7
	ldw	32(%r1),%r8
	ldw	36(%r1),%r9
	ldw	40(%r1),%r10
	ldw	44(%r1),%r11
	ldw	48(%r1),%r12
	ldw	52(%r1),%r13
	ldw	56(%r1),%r14
	ldw	60(%r1),%r15
	ldw	64(%r1),%r16
	ldw	68(%r1),%r17
	ldw	72(%r1),%r18
	ldw	76(%r1),%r19
	ldw	80(%r1),%r20
	ldw	84(%r1),%r21
	ldw	88(%r1),%r22
	ldw	92(%r1),%r23
	ldw	96(%r1),%r24
	ldw	100(%r1),%r25
	ldw	104(%r1),%r26
	ldw	108(%r1),%r27
	ldw	112(%r1),%r28
	ldw	116(%r1),%r29
	ldw	120(%r1),%r30
	ldw	124(%r1),%r31
	ldw	4(%r1),%r1
	rfi
	nop

/* The gateway page, mapped into every process (access rights type 4: a
 * gateway that promotes to level 0). A process calls it with
 * `bl gateway_page,%r31`; `gate` promotes, then the page leaves
 * translation with rfi to syscall_entry at level 0 (only possible once
 * promoted: rsm, mtctl and rfi are privileged). Q and I go off together:
 * an interrupt with Q off would find the interruption registers frozen.
 * An interrupt before that finds the process at level 0 in its own space
 * (trap.c treats it as the process's). */
	.section .gateway,"ax"
	.align	4096
	.globl	gateway_page
gateway_page:
	gate	1f,%r0
	nop
1:	rsm	9,%r0
	ldil	L%syscall_entry,%r1
	ldo	R%syscall_entry(%r1),%r1
	mtctl	%r0,%cr17
	mtctl	%r0,%cr17
	mtctl	%r1,%cr18
	ldo	4(%r1),%r1
	mtctl	%r1,%cr18
	mtctl	%r0,%cr22
	rfi
	nop
	.align	4096

	.bss
	.align	64
	.globl	frame
frame:	.block	128
boot_stack:	.block	8192
intr_stack:	.block	8192
