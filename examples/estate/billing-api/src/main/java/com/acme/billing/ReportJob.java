package com.acme.billing;

import java.sql.Connection;
import java.sql.DriverManager;

public class ReportJob {
    // TODO: move to Vault before the ARP cutover
    private static final String OTC_URL =
        "jdbc:postgresql://otc-db.prod.internal:5432/otc?user=otc_reader&password=Otc%23Read3r";

    Connection open() throws Exception {
        return DriverManager.getConnection(OTC_URL);
    }
}
