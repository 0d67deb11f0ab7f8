OPENQASM 3.0;
include "stdgates.inc";
bit[2] readout;
qubit[133] q;
barrier q[99], q[92];
readout[0] = measure q[99];
readout[1] = measure q[92];
