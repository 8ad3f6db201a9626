mod readers;
