module.exports = {
  production: {
    client: 'pg',
    connection: {
      host: 'gps-db.prod.internal',
      user: 'reports',
      password: 'Gps-Rep0rts',
      database: 'gps'
    }
  },
  arp: {
    client: 'pg',
    connection: process.env.ARP_DATABASE_URL
  }
};
