#!/usr/bin/perl
# A scriptable TFTP client for the lab tests: what curl, atftp and tftp-hpa
# cannot be made to do (malformed requests, pauses between blocks, ACKs from a
# stranger). Perl because perl-base is on every Debian machine.
#
#   tftp_probe.pl HOST STEP...        the steps run in order on one UDP socket
#
#   send=PORT:HEX   send the bytes HEX to HOST:PORT ('last': the port that last answered)
#   recv[=MS]       wait up to MS ms (default 30000) for a datagram;
#                   print "PORT HEX", or "timeout"
#   rrq=NAME[,OPT=VAL...]  send an RRQ (octet) to port 69 and take the answer:
#                   OACK -> ACK 0; DATA 1 -> keep it; print "OACK PORT HEX" or
#                   "DATA PORT" (PORT: the transfer's server port) or "ERROR CODE MESSAGE"
#   retry=MS        from then on, rrq sends its request again each MS ms without an answer
#                   (as firmware does), and prints "RRQ sent N times" before its answer
#   blocks=N        receive and acknowledge N more DATA blocks (fewer if the last comes);
#                   with a windowsize W in the OACK, the last block of each window is
#                   acknowledged (RFC 7440), and after a timeout the last block in order
#   rest            receive and acknowledge DATA blocks until the final (short) one
#   hold=FILE[,MS]  hold the transfer open until FILE exists: print "holding", then every
#                   MS ms (default 500) take one more DATA block (a whole window with a
#                   windowsize), so the server always sees progress and never expires it;
#                   print "held N" (N: the last block acknowledged). MS 0: take nothing
#                   meanwhile (a pause, which the server's idle timeout bounds). Tests hold
#                   a transfer open while they look at it, rather than hope it outlasts them.
#   drain[=MS]      receive until MS ms (default 300) pass without a datagram, the first
#                   awaited 3000 ms; print "blocks N N ..." (the DATA block numbers, in order)
#                   or "blocks none"
#   save=FILE       write the data received so far to FILE
#   port            print the local port
#   sleep=MS
#
# It exits 1 when a step meets something it did not expect (a timeout, an ERROR). Its waits
# for an answer (30 s) only end a hang: an answer is awaited, never raced.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Socket qw(pack_sockaddr_in unpack_sockaddr_in inet_aton);

my $host = shift or die "usage: tftp_probe.pl HOST STEP...\n";
my $sock = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '0.0.0.0') or die "socket: $!\n";
my $sel = IO::Select->new($sock);
my ($last_port, $blksize, $expect, $done, $data) = (undef, 512, 1, 0, '');
my ($window, $in_window, $port_of_transfer) = (1, 0, undef);
my $rrq_retry_ms = 0;

sub send_to {
	my ($port, $bytes) = @_;
	$sock->send($bytes, 0, pack_sockaddr_in($port, inet_aton($host))) or die "send: $!\n";
}

sub recv_one {
	my ($ms) = @_;
	return () unless $sel->can_read($ms / 1000);
	my $from = recv($sock, my $buf, 65535, 0);
	die "recv: $!\n" unless defined $from;
	my ($port) = unpack_sockaddr_in($from);
	$last_port = $port;
	return ($port, $buf);
}

# Takes one DATA (the block expected), acknowledges it; false at the final block.
sub take_block {
	return take_window_block() if $window > 1;
	my ($port, $buf) = recv_one(30000);
	die "timeout waiting for DATA $expect\n" unless defined $port;
	my ($op, $block) = unpack('nn', $buf);
	die sprintf("ERROR %d %s\n", $block, substr($buf, 4)) if $op == 5;
	die "opcode $op, not DATA\n" unless $op == 3;
	if ($block == ($expect & 0xffff)) {
		$data .= substr($buf, 4);
		$expect++;
		$done = length($buf) - 4 < $blksize;
	}
	send_to($port, pack('nn', 4, $block));
	return !$done;
}

# The same with windows: the block expected is kept and the last of a window (or the
# final one) acknowledged; others are ignored; a timeout acknowledges the last in order.
sub take_window_block {
	for my $try (1 .. 5) {
		my ($port, $buf) = recv_one(1000);
		unless (defined $port) {
			send_to($port_of_transfer, pack('nn', 4, ($expect - 1) & 0xffff));
			$in_window = 0;
			next;
		}
		my ($op, $block) = unpack('nn', $buf);
		die sprintf("ERROR %d %s\n", $block, substr($buf, 4)) if $op == 5;
		die "opcode $op, not DATA\n" unless $op == 3;
		next unless $block == ($expect & 0xffff);
		$data .= substr($buf, 4);
		$expect++;
		$done = length($buf) - 4 < $blksize;
		if (++$in_window == $window || $done) {
			send_to($port, pack('nn', 4, $block));
			$in_window = 0;
		}
		return !$done;
	}
	die "timeout waiting for DATA $expect\n";
}

for (@ARGV) {
	if (/^send=(\w+):([0-9a-f]*)$/) {
		send_to($1 eq 'last' ? $last_port : $1, pack('H*', $2));
	} elsif (/^recv(?:=(\d+))?$/) {
		my ($port, $buf) = recv_one($1 // 30000);
		print defined $port ? "$port " . unpack('H*', $buf) . "\n" : "timeout\n";
	} elsif (/^rrq=([^,]+)((?:,[^=,]+=[^,]*)*)$/) {
		my ($name, $opts) = ($1, $2);
		my $req = pack('n', 1) . "$name\0octet\0";
		for (split /,/, $opts) {
			next unless length;
			my ($k, $v) = split /=/, $_, 2;
			$req .= "$k\0$v\0";
			$blksize = $v if lc $k eq 'blksize';
		}
		($expect, $done, $data) = (1, 0, '');
		my ($port, $buf, $sent);
		for ($sent = 1; ; $sent++) {
			send_to(69, $req);
			($port, $buf) = recv_one($rrq_retry_ms || 30000);
			last if defined $port || !$rrq_retry_ms || $sent * $rrq_retry_ms >= 30000;
		}
		die "timeout waiting for the answer to the RRQ\n" unless defined $port;
		print "RRQ sent $sent times\n" if $rrq_retry_ms;
		my ($op, $arg) = unpack('nn', $buf);
		$port_of_transfer = $port;
		if ($op == 6) {
			my %o = map { lc } split /\0/, substr($buf, 2);
			$blksize = 512 unless exists $o{blksize};
			$blksize = $o{blksize} if exists $o{blksize};
			($window, $in_window) = ($o{windowsize} // 1, 0);
			print "OACK $port ", unpack('H*', $buf), "\n";
			send_to($port, pack('nn', 4, 0));
		} elsif ($op == 3) {
			($blksize, $window) = (512, 1);
			$data = substr($buf, 4);
			$expect = 2;
			$done = length($buf) - 4 < $blksize;
			send_to($port, pack('nn', 4, 1));
			print "DATA $port\n";
		} elsif ($op == 5) {
			my $msg = substr($buf, 4);
			$msg =~ s/\0.*//s;
			print "ERROR $arg $msg\n";
			exit 1;
		} else {
			die "opcode $op in answer to the RRQ\n";
		}
	} elsif (/^retry=(\d+)$/) {
		$rrq_retry_ms = $1;
	} elsif (/^blocks=(\d+)$/) {
		for (1 .. $1) { last if $done || !take_block(); }
	} elsif ($_ eq 'rest') {
		while (!$done) { take_block(); }
	} elsif (/^save=(.+)$/) {
		open(my $fh, '>:raw', $1) or die "$1: $!\n";
		print $fh $data;
		close $fh;
	} elsif (/^hold=([^,]+)(?:,(\d+))?$/) {
		my ($file, $ms) = ($1, $2 // 500);
		print "holding\n";
		STDOUT->flush();
		until (-e $file || $done) {
			select(undef, undef, undef, ($ms || 100) / 1000);
			next unless $ms && !-e $file;
			do { take_block() } until $done || $in_window == 0;
		}
		print "held ", $expect - 1, "\n";
	} elsif (/^drain(?:=(\d+))?$/) {
		my ($quiet, @blocks) = ($1 // 300);
		# The first as patiently as recv (the server may be slow to start); then the rest
		# of what it sends at once, until it pauses.
		my $wait = 3000;
		while (my ($port, $buf) = recv_one($wait)) {
			my ($op, $block) = unpack('nn', $buf);
			push @blocks, $block if $op == 3;
			$wait = $quiet;
		}
		print 'blocks ', (@blocks ? join(' ', @blocks) : 'none'), "\n";
	} elsif ($_ eq 'port') {
		print $sock->sockport, "\n";
	} elsif (/^sleep=(\d+)$/) {
		select(undef, undef, undef, $1 / 1000);
	} else {
		die "unknown step '$_'\n";
	}
	STDOUT->flush();
}
