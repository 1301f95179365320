// The same 12 patterns as rules/indicators.toml, as one YARA rule per indicator.
rule PRB_IND_001 { strings: $a = "xmlset_roodkcableoj28840ybtide" condition: $a }
rule PRB_IND_002 { strings: $a = "w302r_mfg" condition: $a }
rule PRB_IND_003 { strings: $a = "PrOw!aN_fXp" condition: $a }
rule PRB_IND_004 { strings: $a = "FGTAbc11*xy+Qqz27" condition: $a }
rule PRB_IND_005 { strings: $a = "<<< %s(un='%s') = %u" condition: $a }
rule PRB_IND_006 { strings: $a = "MPSJKMDHAI" condition: $a }
rule PRB_IND_007 { strings: $a = "AMBIT_TELNET_ENABLE+" condition: $a }
rule PRB_IND_008 { strings: $a = "Web_Shell_Cmd.gch" condition: $a }
rule PRB_IND_009 { strings: $a = "zyad5001" condition: $a }
rule PRB_IND_010 { strings: $a = "-u Alphanetworks:" condition: $a }
rule PRB_IND_011 { strings: $a = { f3 0f 1e fa 55 48 89 f5 4c 89 ce 53 89 fb 81 e7 00 00 00 80 48 83 ec 28 48 89 54 24 18 48 89 4c 24 10 } condition: $a }
rule PRB_IND_012 { strings: $a = "absxcfbgXtb3o" condition: $a }
