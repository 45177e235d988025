/* hello_asm: hand-written PA-RISC assembly, no libc.
 *
 * Writes a message to stdout with write(2) and exits with exit_group(2)
 * through the Linux/parisc system-call gateway page:
 *   ble 0x100(%sr2,%r0)  -- branch into the gateway, return address in %r31
 *   syscall number in %r20 (set in the delay slot), arguments in
 *   %r26, %r25, %r24, %r23, result in %r28.
 * Numbers from <asm/unistd_32.h>: __NR_write = 4, __NR_exit_group = 222.
 *
 * It also does a little arithmetic (a loop summing 1..10 into the exit
 * decision) so there is more than straight-line code to disassemble.
 * Exit status: 0 if every write wrote the full message and the sum is 55.
 */
#define __NR_write        4
#define __NR_exit_group 222

	.section .rodata
msg:
	.ascii "Hello from PA-RISC assembly!\n"
msg_end:
msg2:
	.ascii "sum(1..10) ok\n"
msg2_end:

	.text
	.align 4
	.globl _start
	.type _start, @function
_start:
	/* write(1, msg, len) */
	ldi 1, %r26
	ldil L%msg, %r25
	ldo R%msg(%r25), %r25
	ldi msg_end - msg, %r24
	ble 0x100(%sr2, %r0)
	ldi __NR_write, %r20
	/* %r3 = error flag: 1 if the write was short */
	ldi 0, %r3
	ldi msg_end - msg, %r1
	cmpb,= %r1, %r28, 1f
	nop
	ldi 1, %r3
1:
	/* sum 1..10 in %r4 */
	ldi 0, %r4
	ldi 10, %r5
2:
	add %r4, %r5, %r4
	addib,<> -1, %r5, 2b
	nop
	ldi 55, %r1
	cmpb,<>,n %r1, %r4, 3f
	/* write(1, msg2, len2) */
	ldi 1, %r26
	ldil L%msg2, %r25
	ldo R%msg2(%r25), %r25
	ldi msg2_end - msg2, %r24
	ble 0x100(%sr2, %r0)
	ldi __NR_write, %r20
	ldi msg2_end - msg2, %r1
	cmpb,=,n %r1, %r28, 4f
3:
	ldi 1, %r3
4:
	/* exit_group(%r3) */
	copy %r3, %r26
	ble 0x100(%sr2, %r0)
	ldi __NR_exit_group, %r20
	/* not reached */
	break 0, 0
	.size _start, . - _start
