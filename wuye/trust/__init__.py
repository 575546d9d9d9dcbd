"""Trust: keys, signatures and the staff they belong to.

Ed25519 keys and OpenSSH SSHSIG signatures over RFC 8785 canonical bytes (`signing`), and the
staff register with every key's validity window and the `allowed_signers` generated from it
(`staff`). Creating entries lives with the move-out; checking a whole store lives in wuye.verify,
which reads every package (as in-toto keeps verifylib apart from runlib): that is why it is not here.

May import: wuye.storage, wuye.models, wuye.errors, wuye.i18n.
"""
